import type { QboObject } from '@qbo/qbo-client';
import { query } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { floorToSecond, instantOf, lastUpdatedOf } from '../domain/qbo-time.js';
import { applyRecords, writeChanges } from '../store/mirror.js';
import type { Em } from '../store/sql.js';
import { recordPoisoned } from '../store/sync-errors.js';
import { MissingTimeError } from './cdc-delta.js';
import { namePlaces } from './name-places.js';
import { type PoisonedRecord, readIds } from './poison.js';
import { IDS_PER_QUERY, readWindow, where } from './query-window.js';
import type { SyncSession } from './session.js';

const MAX_PASSES = 3;

export interface ReconcileOptions {
  pageSize: number;
  marginMs: number;
}

export interface ReconcileResult {
  deleted: number;
  upserted: number;
  /** Windows counted at Intuit; the cost beyond the listing of windows that differed. */
  windows: number;
  /** Records still there that Intuit could not return by Id. */
  unreadable: string[];
}

/**
 * Finds records deleted in QuickBooks that CDC can no longer report (older than its 30 days, or cut by its
 * cap), at a fraction of a full re-read (sync-research §1.6): each LastUpdatedTime window is counted at Intuit
 * and in the mirror; equal counts mean nothing there was deleted, so only windows that differ are split (at the
 * mirror's median, so halves hold similar numbers) until they fit one page, then listed in full. A record the
 * mirror holds but a complete listing lacks is asked for by Id once more, and only a record that this too does
 * not return is deleted: one updated since the listing merely moved to a later window.
 */
export async function reconcileEntity(
  s: SyncSession,
  decl: EntityDecl,
  opts: ReconcileOptions,
): Promise<ReconcileResult> {
  const result: ReconcileResult = { deleted: 0, upserted: 0, windows: 0, unreadable: [] };
  const count = async (from: number | null, until: number) => {
    result.windows++;
    return s.query({ entity: decl.name, count: true, where: where(decl, from, until) });
  };
  const clock = await s.query({ entity: decl.name, count: true });
  const now = instantOf(clock.time);
  if (now === undefined) throw new MissingTimeError();
  const until = floorToSecond(now - opts.marginMs);

  const visit = async (from: number | null, to: number): Promise<void> => {
    const remote = (await count(from, to)).totalCount ?? 0;
    const local = await s.write((em) => mirrorCount(em, s, decl, from, to));
    if (remote === local) return;
    const split = remote > opts.pageSize ? await s.write((em) => mirrorMedian(em, s, decl, from, to)) : null;
    if (split !== null && split > (from ?? Number.NEGATIVE_INFINITY) && split < to) {
      await visit(from, split);
      await visit(split, to);
      return;
    }
    await listWindow(s, decl, from, to, opts, result);
  };
  // A record missing from the mirror and a stale one that moved away can cancel out in one window's count;
  // a pass that changed the mirror may have uncovered such a window, so it is counted again.
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    const changed = result.upserted + result.deleted;
    await visit(null, until);
    if (result.upserted + result.deleted === changed) break;
  }
  // Once the whole entity is listed: a record's place may be in a later window than where the mirror saw it.
  await namePlaces(s, decl, [...new Set(result.unreadable)]);
  await s.write((em) => s.progress(em, { pages: 0 }));
  return result;
}

async function listWindow(
  s: SyncSession,
  decl: EntityDecl,
  from: number | null,
  to: number,
  opts: ReconcileOptions,
  result: ReconcileResult,
): Promise<void> {
  const listed: QboObject[] = [];
  const poisoned: PoisonedRecord[] = [];
  for await (const batch of readWindow(s.query, decl, from, to, opts)) {
    listed.push(...batch.rows);
    poisoned.push(...(batch.poisoned ?? []));
  }
  const seen = new Set(listed.map((r) => String(r.Id)));
  const missing = (await s.write((em) => mirrorIds(em, s, decl, from, to))).filter((id) => !seen.has(id));
  const there = await stillThere(s, decl, missing);
  const confirmed = there.rows;
  // A record Intuit cannot return is still there: it is kept, and its error row now has its Id.
  const unreadable = new Set(there.poisoned.map((p) => p.entityId));
  const gone = missing.filter((id) => !unreadable.has(id) && !confirmed.some((r) => String(r.Id) === id));
  result.unreadable.push(...unreadable);
  await s.write(async (em) => {
    await recordPoisoned(em, s.target, s.runId, [
      ...poisoned,
      ...there.poisoned.map((p) => ({ entity: decl.name, ...p })),
    ]);
    const c = await applyRecords(em, s.feed, {
      target: s.target,
      decl,
      rows: [...listed, ...confirmed],
      origin: 'reconcile',
      runId: s.runId,
    });
    await writeChanges(em, s.feed, {
      target: s.target,
      decl,
      origin: 'reconcile',
      runId: s.runId,
      changes: gone.map((id) => ({ kind: 'delete', reason: 'reconcile', entityId: id, lastUpdated: null })),
    });
    result.upserted += c.upserted;
    result.deleted += gone.length;
    await s.progress(em, {
      pages: 1,
      upserted: c.upserted,
      deleted: gone.length,
      unchanged: c.unchanged,
      entity: decl.name,
    });
  });
}

/**
 * The records of `ids` Intuit still has (inactive ones included), in as few queries as the page allows, and
 * those it could not return: an Id list Intuit fails because it holds a record it cannot return is split down
 * to that Id (poison.ts).
 */
export async function stillThere(s: SyncSession, decl: EntityDecl, ids: readonly string[]) {
  const read = async (chunk: readonly string[]) => {
    const page = await s.query({
      entity: decl.name,
      where: [
        ...(decl.kind === 'name_list' ? [{ field: 'Active', op: 'IN' as const, value: [true, false] }] : []),
        { field: 'Id', op: 'IN', value: [...chunk] },
      ],
      maxResults: 1000,
    });
    return page.rows.filter((r) => lastUpdatedOf(r) !== undefined);
  };
  const found: QboObject[] = [];
  const poisoned: { entityId: string; code: string; callId?: string }[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const part = await readIds(read, ids.slice(i, i + IDS_PER_QUERY));
    found.push(...part.rows);
    poisoned.push(...part.poisoned);
  }
  return { rows: found, poisoned };
}

const windowSql = `org_id = $1 and realm_id = $2 and entity = $3 and deleted_at is null
  and ($4::timestamptz is null or last_updated >= $4) and last_updated < $5`;

const windowParams = (s: SyncSession, decl: EntityDecl, from: number | null, to: number) => [
  s.target.orgId,
  s.target.realmId,
  decl.name,
  from === null ? null : new Date(from).toISOString(),
  new Date(to).toISOString(),
];

async function mirrorCount(em: Em, s: SyncSession, decl: EntityDecl, from: number | null, to: number) {
  const rows = await query<{ n: number }>(
    em,
    `select count(*)::int as n from mirror_record where ${windowSql}`,
    windowParams(s, decl, from, to),
  );
  return rows[0]?.n ?? 0;
}

async function mirrorMedian(em: Em, s: SyncSession, decl: EntityDecl, from: number | null, to: number) {
  const rows = await query<{ median: Date | null }>(
    em,
    `select percentile_disc(0.5) within group (order by last_updated) as median from mirror_record where ${windowSql}`,
    windowParams(s, decl, from, to),
  );
  const m = rows[0]?.median;
  return m ? floorToSecond(new Date(m).getTime()) : null;
}

async function mirrorIds(em: Em, s: SyncSession, decl: EntityDecl, from: number | null, to: number) {
  const rows = await query<{ entity_id: string }>(
    em,
    `select entity_id from mirror_record where ${windowSql}`,
    windowParams(s, decl, from, to),
  );
  return rows.map((r) => r.entity_id);
}
