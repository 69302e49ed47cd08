import type { QboObject } from '@qbo/qbo-client';
import { AppError } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { instantOf } from '../domain/qbo-time.js';
import { isPoisonFault, type PoisonedRecord } from './poison.js';
import type { CdcFn, QueryFn } from './ports.js';
import { readWindow } from './query-window.js';

export interface DeltaBatch {
  entity: string;
  rows: QboObject[];
  origin: 'cdc' | 'query';
  /** Records Intuit could not return, narrowed down by a windowed read. */
  poisoned?: PoisonedRecord[] | undefined;
}

export interface DeltaOutcome {
  /** Intuit's clock when the first answer was made: everything changed before it has been handed over. */
  asOf: number;
  /** Entities whose deleted stubs may have been cut by the cap: their deletes are left to reconciliation. */
  reconcile: string[];
}

export class MissingTimeError extends AppError {
  constructor() {
    super('missing_time', 'Intuit answered without its "time" field, so the cursor cannot advance', {
      retryable: true,
    });
    this.name = 'MissingTimeError';
  }
}

/**
 * Every change since `since` (inclusive) across the entities, in as few calls as Intuit allows: one CDC call
 * for all of them while the answer stays under the 1,000-object cap (docs/qbo-api-facts.md §3). An answer that
 * reaches the cap is never taken as complete (sync-research §1.3): its objects are applied (each is a real
 * version), then the entity list is halved and asked again; an entity that overflows alone is read by
 * LastUpdatedTime windows up to the first answer's time, and its deletes are left to reconciliation, because
 * deleted stubs come last in a group and are the first to be cut. A window Intuit fails because it holds a
 * record it cannot return (4002/10000) is narrowed the same way, and the entity read by windows around it.
 */
export async function* readChanges(
  cdc: CdcFn,
  query: QueryFn,
  decls: readonly EntityDecl[],
  since: number,
  pageSize: number,
): AsyncGenerator<DeltaBatch, DeltaOutcome> {
  const viaCdc = decls.filter((d) => d.cdc);
  const reconcile: string[] = [];
  let asOf: number | undefined;

  async function* ask(list: readonly EntityDecl[]): AsyncGenerator<DeltaBatch> {
    let answer: Awaited<ReturnType<CdcFn>>;
    try {
      answer = await cdc(
        list.map((d) => d.name),
        since,
      );
    } catch (err) {
      // A window holding a record Intuit cannot return fails as a whole: find the entity, then read it by
      // time windows, which narrow down to the record and read around it.
      if (!isPoisonFault(err)) throw err;
      yield* narrow(list);
      return;
    }
    asOf ??= instantOf(answer.time);
    if (asOf === undefined) throw new MissingTimeError();
    for (const [entity, rows] of Object.entries(answer.changes)) {
      if (rows.length > 0) yield { entity: canonical(list, entity), rows, origin: 'cdc' };
    }
    if (answer.truncated) yield* narrow(list);
  }

  /** Halves the entity list; an entity that still fails alone is read by windows, its deletes reconciled. */
  async function* narrow(list: readonly EntityDecl[]): AsyncGenerator<DeltaBatch> {
    if (list.length > 1) {
      const half = Math.ceil(list.length / 2);
      yield* ask(list.slice(0, half));
      yield* ask(list.slice(half));
      return;
    }
    yield* byWindow(list[0] as EntityDecl);
    reconcile.push((list[0] as EntityDecl).name);
  }

  async function* byWindow(decl: EntityDecl): AsyncGenerator<DeltaBatch> {
    if (asOf === undefined) {
      const count = await query({ entity: decl.name, count: true });
      asOf = instantOf(count.time);
      if (asOf === undefined) throw new MissingTimeError();
    }
    for await (const batch of readWindow(query, decl, since, asOf, { pageSize })) {
      if (batch.rows.length > 0 || batch.poisoned) {
        yield { entity: decl.name, rows: batch.rows, origin: 'query', poisoned: batch.poisoned };
      }
    }
  }

  if (viaCdc.length > 0) yield* ask(viaCdc);
  for (const decl of decls.filter((d) => !d.cdc)) yield* byWindow(decl);
  return { asOf: asOf as number, reconcile };
}

/** CDC names groups by Intuit's spelling; map it back to the declared name. */
function canonical(list: readonly EntityDecl[], name: string): string {
  return list.find((d) => d.name.toLowerCase() === name.toLowerCase())?.name ?? name;
}
