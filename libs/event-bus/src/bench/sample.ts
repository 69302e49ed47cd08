import { type CatalogEvent, createEventFactory, RequestSync } from '@qbo/events';

const orgs = Array.from({ length: 50 }, (_, i) => `org-${i}`);
const make = createEventFactory({ source: 'bench' });

/** Small events spread over 50 orgs. */
export const smallEvents = (n: number): CatalogEvent[] =>
  Array.from({ length: n }, (_, i) =>
    make(RequestSync, {
      orgId: orgs[i % orgs.length] as string,
      data: { connectionId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', mode: 'incremental' },
    }),
  );

export const BATCH = 1_000;

/**
 * What the producing process tells the benchmark: when it started sending, when its writes were done, and the
 * CPU seconds it has spent since it started (asked with a `cpu` message, or sent as it exits).
 */
export type ProducerReport =
  | { kind: 'started' }
  | { kind: 'written'; ms: number }
  | { kind: 'cpu'; seconds: number };
