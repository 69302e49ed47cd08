import type { QboObject, QueryParts } from '@qbo/qbo-client';
import { AppError } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { floorToSecond, lastUpdatedOf } from '../domain/qbo-time.js';
import type { QueryFn } from './ports.js';

const LAST_UPDATED = 'MetaData.LastUpdatedTime';
const SECOND = 1_000;

/** What a window read hands over after each call: the rows to apply and the cursor to commit with them. */
export interface WindowBatch {
  rows: QboObject[];
  /** The inclusive lower bound a resumed read starts from once these rows are committed. */
  cursor: number | null;
  /** The read is complete: every record of the window has been handed over. */
  done: boolean;
}

export interface WindowOptions {
  pageSize: number;
  /**
   * How many records the window held at most when it was counted (records only ever leave a window whose end
   * is in the past): once that many distinct records were read, a full page is known to be the last, and
   * the empty page that would prove it is not asked for.
   */
  atMost?: number | undefined;
  /** How often a tie group that shrank while it was paged is paged again before the run gives up. */
  maxTieAttempts?: number;
}

export class TieGroupUnstableError extends AppError {
  constructor(readonly second: number) {
    super(
      'tie_group_unstable',
      `records of ${new Date(second).toISOString()} kept changing while they were paged`,
      {
        retryable: true,
      },
    );
    this.name = 'TieGroupUnstableError';
  }
}

/**
 * Reads every record of one entity whose LastUpdatedTime is in [from, until), without offset paging over a set
 * that can change (sync-research §1.2). Pages are keyed by the time itself: each asks for the oldest rows at or
 * after the cursor, and the next cursor is the second of the page's last row, inclusive, so rows sharing that
 * second are read again rather than skipped (their upserts are no-ops). A record updated meanwhile leaves the
 * window for a time at or after `until`, where the next delta finds it. Only a second holding a full page is
 * paged by offset, ordered by Id, and counted before and after: a count that fell means a row left and shifted
 * the offsets, so the second is paged again.
 */
export async function* readWindow(
  query: QueryFn,
  decl: EntityDecl,
  from: number | null,
  until: number,
  { pageSize, maxTieAttempts = 5, atMost }: WindowOptions,
): AsyncGenerator<WindowBatch> {
  let cursor = from;
  const read = new Set<string>();
  for (;;) {
    const page = await query({
      entity: decl.name,
      where: where(decl, cursor, until),
      orderBy: { field: LAST_UPDATED, direction: 'ASC' },
      startPosition: 1,
      maxResults: pageSize,
    });
    const rows = page.rows;
    for (const r of rows) read.add(String(r.Id));
    if (rows.length < pageSize || (atMost !== undefined && read.size >= atMost)) {
      yield { rows, cursor, done: true };
      return;
    }
    const first = floorToSecond(timeOf(rows[0] as QboObject));
    const last = floorToSecond(timeOf(rows[rows.length - 1] as QboObject));
    if (first !== last) {
      cursor = last;
      yield { rows, cursor, done: false };
      continue;
    }
    // A whole page in one second: the cursor cannot move past it by time alone.
    yield { rows, cursor: first, done: false };
    yield* readSecond(query, decl, first, pageSize, maxTieAttempts);
    cursor = first + SECOND;
    if (cursor >= until) {
      yield { rows: [], cursor, done: true };
      return;
    }
  }
}

async function* readSecond(
  query: QueryFn,
  decl: EntityDecl,
  second: number,
  pageSize: number,
  maxAttempts: number,
): AsyncGenerator<WindowBatch> {
  const bounds = where(decl, second, second + SECOND);
  const count = async () => (await query({ entity: decl.name, count: true, where: bounds })).totalCount ?? 0;
  let before = await count();
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    for (let position = 1; ; position += pageSize) {
      const page = await query({
        entity: decl.name,
        where: bounds,
        orderBy: { field: 'Id', direction: 'ASC' },
        startPosition: position,
        maxResults: pageSize,
      });
      yield { rows: page.rows, cursor: second, done: false };
      if (page.rows.length < pageSize) break;
    }
    const after = await count();
    if (after >= before) return;
    before = after;
  }
  throw new TieGroupUnstableError(second);
}

/** The window's conditions; name lists name `Active` so inactive records are read too (§2.6). */
export function where(
  decl: EntityDecl,
  from: number | null,
  until: number,
): NonNullable<QueryParts['where']> {
  return [
    ...(decl.kind === 'name_list' ? [{ field: 'Active', op: 'IN' as const, value: [true, false] }] : []),
    ...(from === null ? [] : [{ field: LAST_UPDATED, op: '>=' as const, value: new Date(from) }]),
    { field: LAST_UPDATED, op: '<' as const, value: new Date(until) },
  ];
}

function timeOf(row: QboObject): number {
  const t = lastUpdatedOf(row);
  if (t === undefined) throw new Error(`a ${String(row.Id)} row has no MetaData.LastUpdatedTime`);
  return t;
}
