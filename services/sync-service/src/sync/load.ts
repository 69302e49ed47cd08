import { MAX_BATCH_OBJECTS, type QboObject } from '@qbo/qbo-client';
import { execute, query } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { floorToSecond, instantOf } from '../domain/qbo-time.js';
import { loadCheckpoints, saveLoadCheckpoint, startLoadCheckpoints } from '../store/checkpoints.js';
import { allocateSeq, applyRecords, type PageCounts, unreadIds, writeChanges } from '../store/mirror.js';
import { setEstimate } from '../store/runs.js';
import type { Em } from '../store/sql.js';
import { recordPoisoned } from '../store/sync-errors.js';
import { MissingTimeError } from './cdc-delta.js';
import { namePlaces } from './name-places.js';
import { isPoisonFault } from './poison.js';
import { readWindow, type WindowBatch, windowPage } from './query-window.js';
import { stillThere } from './reconcile.js';
import type { BatchAnswer, SyncSession } from './session.js';

export interface LoadOptions {
  pageSize: number;
  /** How far behind Intuit's clock the load stops, so records Intuit is still writing go to the first delta. */
  marginMs: number;
}

export interface LoadState {
  /** The snapshot this load emits; the same across resumptions of one load. */
  snapshotRunId: string;
  generation: number;
  /** Fixed when the load began: it reads records last updated before this, the first delta reads from it. */
  until: number | null;
  /** A resync of these entities alone (the session's), or null for a load of the whole company. */
  resync: readonly string[] | null;
}

const snapshotMode = (state: LoadState) => (state.resync === null ? 'initial' : 'resync');

/**
 * Completes a load: the records of its entities the mirror holds but its generation did not read are asked for
 * by Id (a record updated after the load's end is still there, and is emitted in the generation), and those
 * Intuit no longer returns are deleted; then its snapshot's closing entry, and for a load of the whole company
 * the first delta's cursor where the load stopped. A resync leaves the CDC cursor as it was: the next delta
 * reads every change since, of the resynced entities too.
 */
export async function completeLoad(
  s: SyncSession,
  state: LoadState,
  reconcileIntervalMs: number,
): Promise<PageCounts> {
  const snapshot = { runId: state.snapshotRunId, generation: state.generation };
  const totals: PageCounts = { upserted: 0, deleted: 0, unchanged: 0 };
  for (const decl of s.decls) {
    const unread = await s.write((em) => unreadIds(em, s.target, decl.name, state.generation));
    if (unread.length === 0) continue;
    const there = await stillThere(s, decl, unread);
    // A record Intuit cannot return is still there: it is kept, and its error row names it.
    const kept = new Set([...there.rows.map((r) => String(r.Id)), ...there.poisoned.map((p) => p.entityId)]);
    const gone = unread.filter((id) => !kept.has(id));
    await s.write(async (em) => {
      await recordPoisoned(
        em,
        s.target,
        s.runId,
        there.poisoned.map((p) => ({ entity: decl.name, ...p })),
      );
      const c = await applyRecords(em, s.feed, {
        target: s.target,
        decl,
        rows: there.rows,
        origin: 'query',
        runId: s.runId,
        snapshot,
      });
      await writeChanges(em, s.feed, {
        target: s.target,
        decl,
        origin: 'reconcile',
        runId: s.runId,
        snapshot,
        changes: gone.map((id) => ({ kind: 'delete', reason: 'reconcile', entityId: id, lastUpdated: null })),
      });
      await s.progress(em, { ...c, deleted: gone.length, pages: 0, entity: decl.name });
      totals.upserted += c.upserted;
      totals.deleted += gone.length;
      totals.unchanged += c.unchanged;
    });
    await namePlaces(
      s,
      decl,
      there.poisoned.map((p) => p.entityId),
    );
  }
  await s.write(async (em) => {
    const counts = await mirrorCounts(em, s);
    await s.feed.write(em, [
      {
        kind: 'snapshot_completed',
        seq: await allocateSeq(em, s.target.orgId, 1),
        target: s.target,
        snapshot,
        mode: snapshotMode(state),
        entities: s.decls.map((d) => d.name),
        counts,
      },
    ]);
    if (state.resync !== null) {
      await execute(
        em,
        `update sync_target set needs_load = false, load_run_id = null, load_entities = null,
           wanted_at = now(), wanted_reason = 'command'
         where org_id = $1 and realm_id = $2`,
        [s.target.orgId, s.target.realmId],
      );
      return;
    }
    await execute(
      em,
      `update sync_target set needs_load = false, load_run_id = null, load_entities = null,
         cdc_since = load_until, cdc_since_local = load_until_local,
         reconcile_at = now() + make_interval(secs => $3), wanted_at = now(), wanted_reason = 'connection'
       where org_id = $1 and realm_id = $2`,
      [s.target.orgId, s.target.realmId, reconcileIntervalMs / 1000],
    );
  });
  return totals;
}

/**
 * The initial load: every declared entity, inactive name-list records included, read by LastUpdatedTime
 * windows up to `until`, each page committed with its entity's cursor. Resuming starts each entity at its last
 * committed cursor. The first call of a fresh load counts every entity in one `/batch`: the counts are the
 * progress estimate and spare the empty page that would end an entity, and the answer's time fixes `until`.
 */
export async function runLoad(s: SyncSession, state: LoadState, opts: LoadOptions): Promise<PageCounts> {
  let until = state.until;
  const counts = new Map<string, number>();
  const snapshot = { runId: state.snapshotRunId, generation: state.generation };
  if (until === null) {
    // One `/batch` call counts every entity (a count holds no rows). Intuit ran the counts at most the call's
    // round trip before the answer's time, so the window ends at least that far back: each count then holds
    // its whole window, which only loses records once its end is past.
    const asked = Date.now();
    const answers = await s.queryBatch(
      s.decls.map((decl) => ({
        entity: decl.name,
        count: true,
        ...(decl.kind === 'name_list'
          ? { where: [{ field: 'Active', op: 'IN' as const, value: [true, false] }] }
          : {}),
      })),
    );
    let estimate = 0;
    let intuitNow: number | undefined;
    s.decls.forEach((decl, i) => {
      const answer = answers[i];
      if (answer !== undefined && 'error' in answer) throw answer.error;
      const count = answer?.page.totalCount;
      estimate += count ?? 0;
      if (count !== undefined) counts.set(decl.name, count);
      intuitNow ??= instantOf(answer?.page.time);
    });
    if (intuitNow === undefined) throw new MissingTimeError();
    const marginMs = Math.max(opts.marginMs, Date.now() - asked);
    const fixed = floorToSecond(intuitNow - marginMs);
    until = fixed;
    await s.write(async (em) => {
      await startLoadCheckpoints(
        em,
        s.target,
        s.decls.map((d) => d.name),
      );
      await execute(
        em,
        `update sync_target set load_until = $3, load_until_local = now() - make_interval(secs => $4)
         where org_id = $1 and realm_id = $2`,
        [s.target.orgId, s.target.realmId, new Date(fixed).toISOString(), marginMs / 1000],
      );
      await setEstimate(em, s.runId, estimate);
      await s.feed.write(em, [
        {
          kind: 'snapshot_started',
          seq: await allocateSeq(em, s.target.orgId, 1),
          target: s.target,
          snapshot,
          mode: snapshotMode(state),
          entities: s.decls.map((d) => d.name),
        },
      ]);
      await s.progress(em, { pages: 0 });
    });
  }

  const totals: PageCounts = { upserted: 0, deleted: 0, unchanged: 0 };
  const commit = async (decl: EntityDecl, batch: WindowBatch, pages = 1) => {
    const c = await s.write(async (em) => {
      const c = await applyRecords(em, s.feed, {
        target: s.target,
        decl,
        rows: batch.rows,
        origin: 'query',
        runId: s.runId,
        snapshot,
      });
      await recordPoisoned(em, s.target, s.runId, batch.poisoned ?? []);
      await saveLoadCheckpoint(em, s.target, { entity: decl.name, cursor: batch.cursor, done: batch.done });
      await s.progress(em, { ...c, pages, entity: decl.name });
      return c;
    });
    totals.upserted += c.upserted;
    totals.deleted += c.deleted;
    totals.unchanged += c.unchanged;
  };
  const checkpoints = await s.write((em) => loadCheckpoints(em, s.target));
  const pending = s.decls.filter((d) => checkpoints.get(d.name)?.done !== true);
  const fresh = pending.filter((d) => (checkpoints.get(d.name)?.cursor ?? null) === null);
  const whole = await readWholeWindows(s, fresh, counts, until, opts.pageSize);
  for (const decl of pending) {
    const rows = whole.get(decl.name);
    if (rows !== undefined) {
      // A window counted empty was not asked for: no page.
      await commit(decl, { rows, cursor: null, done: true }, counts.get(decl.name) === 0 ? 0 : 1);
      continue;
    }
    const window = { ...opts, atMost: counts.get(decl.name) };
    const from = checkpoints.get(decl.name)?.cursor ?? null;
    for await (const batch of readWindow(s.query, decl, from, until, window)) await commit(decl, batch);
  }
  return totals;
}

/**
 * Which counted windows one answer can hold whole, so they are read without paging: a window whose end is in
 * the past only loses records, so one counted empty needs no call (`empty`), and those whose counts add up to
 * a batch answer's 1,000 objects are read together by one `/batch` call each (`groups`, of two or more). The
 * rest (a large entity, one left alone in its group, an uncounted one) are paged as usual.
 */
export function planWholeWindows(
  decls: readonly EntityDecl[],
  counts: ReadonlyMap<string, number>,
  pageSize: number,
): { empty: EntityDecl[]; groups: EntityDecl[][] } {
  const empty: EntityDecl[] = [];
  const groups: EntityDecl[][] = [[]];
  let held = 0;
  for (const decl of decls) {
    const n = counts.get(decl.name);
    if (n === undefined || n > pageSize) continue;
    if (n === 0) {
      empty.push(decl);
      continue;
    }
    if (held + n > MAX_BATCH_OBJECTS) {
      groups.push([]);
      held = 0;
    }
    groups.at(-1)?.push(decl);
    held += n;
  }
  return { empty, groups: groups.filter((g) => g.length > 1) };
}

/**
 * Reads the windows `planWholeWindows` picks. A window is taken whole only when its answer proves it: fewer rows
 * than a page, or as many as its count, none over it, and the batch's answer under Intuit's cap (a cut answer is
 * paged). An item that failed, or a call refused for a poisoned record, leaves its windows to paging.
 */
export async function readWholeWindows(
  s: SyncSession,
  decls: readonly EntityDecl[],
  counts: ReadonlyMap<string, number>,
  until: number,
  pageSize: number,
): Promise<Map<string, QboObject[]>> {
  const plan = planWholeWindows(decls, counts, pageSize);
  const whole = new Map<string, QboObject[]>(plan.empty.map((d) => [d.name, []]));
  for (const group of plan.groups) {
    let answers: BatchAnswer[];
    try {
      answers = await s.queryBatch(group.map((decl) => windowPage(decl, null, until, pageSize)));
    } catch (err) {
      if (!isPoisonFault(err)) throw err;
      continue;
    }
    const held = answers.reduce((n, a) => n + ('page' in a ? a.page.rows.length : 0), 0);
    if (held >= MAX_BATCH_OBJECTS) continue;
    group.forEach((decl, i) => {
      const answer = answers[i];
      const count = counts.get(decl.name);
      if (answer === undefined || !('page' in answer) || count === undefined) return;
      const { rows } = answer.page;
      if (rows.length <= count && (rows.length < pageSize || rows.length === count))
        whole.set(decl.name, rows);
    });
  }
  return whole;
}

async function mirrorCounts(em: Em, s: SyncSession): Promise<{ records: number; deleted: number }> {
  const rows = await query<{ records: number; deleted: number }>(
    em,
    `select count(*) filter (where deleted_at is null)::int as records,
       count(*) filter (where deleted_at is not null)::int as deleted
     from mirror_record where org_id = $1 and realm_id = $2 and entity = any($3::text[])`,
    [s.target.orgId, s.target.realmId, s.decls.map((d) => d.name)],
  );
  return rows[0] ?? { records: 0, deleted: 0 };
}
