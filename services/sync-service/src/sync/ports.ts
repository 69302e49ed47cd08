import type { Outbox } from '@qbo/event-bus';
import type { EventFactory } from '@qbo/events';
import type { QboClient, QboObject, QueryParts } from '@qbo/qbo-client';
import type { Logger, MikroORM } from '@qbo/service-kit';
import type { FeedWriter } from '../store/feed.js';

/** What the work of a claimed company (its runs, retries and pushes) reads Intuit and writes with. */
export interface ClaimDeps {
  orm: MikroORM;
  qbo: QboClient;
  feed: FeedWriter;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
}

/** One query of one realm, bound to the run's call context; `time` is Intuit's clock at the answer. */
export type QueryFn = (
  parts: QueryParts,
) => Promise<{ rows: QboObject[]; totalCount?: number; time?: string }>;

/** One CDC call of one realm, bound to the run's call context. */
export type CdcFn = (
  entities: readonly string[],
  since: number,
) => Promise<{ changes: Record<string, QboObject[]>; truncated: boolean; time?: string }>;
