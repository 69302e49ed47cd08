import type { QboObject, QueryParts } from '@qbo/qbo-client';
import { AppError } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { floorToSecond, lastUpdatedOf } from '../domain/qbo-time.js';
import { isPoisonFault, type PoisonedRecord, readSlice } from './poison.js';
import type { QueryFn } from './ports.js';

const LAST_UPDATED = 'MetaData.LastUpdatedTime';
const SECOND = 1_000;
/** Ids in one `Id IN (…)` of the sync's queries: reads by Id and the counts that place an Id. */
export const IDS_PER_QUERY = 500;

/** What a window read hands over after each call: the rows to apply and the cursor to commit with them. */
export interface WindowBatch {
  rows: QboObject[];
  /** The inclusive lower bound a resumed read starts from once these rows are committed. */
  cursor: number | null;
  /** The read is complete: every record of the window has been handed over. */
  done: boolean;
  /** Records of the window Intuit could not return, narrowed down to their place; their rows are missing. */
  poisoned?: PoisonedRecord[];
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
 *
 * A page Intuit cannot return because it holds a poisoned record (poison.ts) splits the rest of the window in
 * two halves by time, read in order, until the failing part is one second; that second is paged by Id and the
 * failing page halved down to the one position, which the batch reports instead of its rows.
 */
export async function* readWindow(
  query: QueryFn,
  decl: EntityDecl,
  from: number | null,
  until: number,
  { pageSize, maxTieAttempts = 5, atMost }: WindowOptions,
): AsyncGenerator<WindowBatch> {
  yield* readRange({ query, decl, pageSize, maxTieAttempts, atMost, read: new Set() }, from, until, true);
}

interface RangeContext {
  query: QueryFn;
  decl: EntityDecl;
  pageSize: number;
  maxTieAttempts: number;
  atMost: number | undefined;
  /** Ids read so far by the whole window. */
  read: Set<string>;
}

/** Reads [from, until); `last` says whether its final batch completes the whole window. */
async function* readRange(
  ctx: RangeContext,
  from: number | null,
  until: number,
  last: boolean,
): AsyncGenerator<WindowBatch> {
  const { query, decl, pageSize, read, atMost } = ctx;
  let cursor = from;
  for (;;) {
    let rows: QboObject[];
    try {
      rows = (await query(windowPage(decl, cursor, until, pageSize))).rows;
    } catch (err) {
      if (!isPoisonFault(err)) throw err;
      yield* splitRange(ctx, cursor ?? 0, until, last);
      return;
    }
    for (const r of rows) read.add(String(r.Id));
    if (rows.length < pageSize || (atMost !== undefined && read.size >= atMost)) {
      yield { rows, cursor, done: last };
      return;
    }
    const first = floorToSecond(timeOf(rows[0] as QboObject));
    const lastSecond = floorToSecond(timeOf(rows[rows.length - 1] as QboObject));
    if (first !== lastSecond) {
      cursor = lastSecond;
      yield { rows, cursor, done: false };
      continue;
    }
    // A whole page in one second: the cursor cannot move past it by time alone.
    yield { rows, cursor: first, done: false };
    yield* readById(ctx, first, first + SECOND);
    cursor = first + SECOND;
    if (cursor >= until) {
      yield { rows: [], cursor, done: last };
      return;
    }
  }
}

/** A range holding a poisoned record: its halves in time order, down to one second read by Id. */
async function* splitRange(
  ctx: RangeContext,
  from: number,
  until: number,
  last: boolean,
): AsyncGenerator<WindowBatch> {
  if (until - from <= SECOND) {
    yield* readById(ctx, from, until);
    yield { rows: [], cursor: until, done: last };
    return;
  }
  const mid = Math.max(from + SECOND, floorToSecond(from + (until - from) / 2));
  for await (const batch of readRange(ctx, from, mid, false)) yield batch;
  yield* readRange(ctx, mid, until, last);
}

/** Pages [from, to), at most one second, by Id, counted before and after; poisoned positions reported. */
async function* readById(ctx: RangeContext, from: number, to: number): AsyncGenerator<WindowBatch> {
  const { query, decl, pageSize } = ctx;
  const bounds = where(decl, from, to);
  const count = async () => (await query({ entity: decl.name, count: true, where: bounds })).totalCount ?? 0;
  const page = async (position: number, size: number) =>
    (
      await query({
        entity: decl.name,
        where: bounds,
        orderBy: { field: 'Id', direction: 'ASC' },
        startPosition: position,
        maxResults: size,
      })
    ).rows;
  let before = await count();
  for (let attempt = 1; attempt <= ctx.maxTieAttempts; attempt++) {
    for (let position = 1; ; position += pageSize) {
      const slice = await readSlice(page, position, pageSize);
      for (const r of slice.rows) ctx.read.add(String(r.Id));
      const poisoned = slice.poisoned.map(
        (p): PoisonedRecord => ({
          entity: decl.name,
          code: p.code,
          from,
          to,
          position: p.position,
          ...(p.callId === undefined ? {} : { callId: p.callId }),
          ...idBefore(
            slice.rows,
            p.position - position - slice.poisoned.filter((q) => q.position < p.position).length,
          ),
        }),
      );
      yield { rows: slice.rows, cursor: from, done: false, ...(poisoned.length > 0 ? { poisoned } : {}) };
      if (slice.filled < pageSize) break;
    }
    const after = await count();
    if (after >= before) return;
    before = after;
  }
  throw new TieGroupUnstableError(from);
}

/** The Id of the row read just before a poisoned one (`index` rows of its Id-ordered slice precede it). */
function idBefore(rows: readonly QboObject[], index: number): { afterId?: string } {
  const before = index > 0 ? rows[index - 1] : undefined;
  return before === undefined ? {} : { afterId: String(before.Id) };
}

/** The first page of a window's rows from `from` on, oldest first. */
export function windowPage(
  decl: EntityDecl,
  from: number | null,
  until: number,
  pageSize: number,
): QueryParts {
  return {
    entity: decl.name,
    where: where(decl, from, until),
    orderBy: { field: LAST_UPDATED, direction: 'ASC' },
    startPosition: 1,
    maxResults: pageSize,
  };
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
