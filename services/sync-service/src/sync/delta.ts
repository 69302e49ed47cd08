import { isQboError } from '@qbo/qbo-client';
import { execute, query } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { floorToSecond, instantOf, lastUpdatedOf } from '../domain/qbo-time.js';
import { applyRecords, type PageCounts, type RecordHint } from '../store/mirror.js';
import type { Em } from '../store/sql.js';
import { recordPoisoned } from '../store/sync-errors.js';
import { type DeltaBatch, MissingTimeError, readChanges } from './cdc-delta.js';
import { readWindow } from './query-window.js';
import type { SyncSession } from './session.js';

export interface DeltaOptions {
  pageSize: number;
  /** How far behind Intuit's answer the cursor stays, for changes Intuit's CDC shows late. */
  marginMs: number;
}

export interface DeltaResult {
  counts: PageCounts;
  mode: 'cdc' | 'query';
  /** Entities whose deletes this delta may not have seen: reconciliation must run for them. */
  reconcile: string[];
}

/** Intuit's fault for a CDC `changedSince` beyond its 30 days (docs/qbo-api-facts.md §3). */
export function isCdcTooOld(err: unknown): boolean {
  return isQboError(err) && err.status === 400 && /older than fixed days/i.test(err.message);
}

/**
 * Brings the mirror up to Intuit's present from the company's cursor: by CDC while the cursor is inside the
 * window (one call for every entity unless the cap forces narrowing), otherwise, or when Intuit says the
 * cursor is too old, by LastUpdatedTime windows over every entity plus a reconciliation for deletes, which
 * CDC alone reports. Never clamps the cursor silently.
 */
export async function runDelta(
  s: SyncSession,
  since: number,
  pastWindow: boolean,
  opts: DeltaOptions,
): Promise<DeltaResult> {
  const counts: PageCounts = { upserted: 0, deleted: 0, unchanged: 0 };
  const apply = async (batch: DeltaBatch) => {
    const decl = s.decls.find((d) => d.name === batch.entity);
    if (!decl) return;
    const c = await s.write(async (em) => {
      const hints = await noticeHints(em, s, batch);
      const c = await applyRecords(em, s.feed, {
        target: s.target,
        decl,
        rows: batch.rows,
        origin: batch.origin,
        runId: s.runId,
        hints,
      });
      await recordPoisoned(em, s.target, s.runId, batch.poisoned ?? []);
      await s.progress(em, { ...c, pages: 1, entity: decl.name });
      return c;
    });
    counts.upserted += c.upserted;
    counts.deleted += c.deleted;
    counts.unchanged += c.unchanged;
  };

  if (!pastWindow) {
    try {
      const changes = readChanges(s.cdc, s.query, s.decls, since, opts.pageSize);
      for (;;) {
        const next = await changes.next();
        if (next.done) {
          await advance(s, next.value.asOf - opts.marginMs, next.value.reconcile, opts.marginMs);
          return { counts, mode: 'cdc', reconcile: next.value.reconcile };
        }
        await apply(next.value);
      }
    } catch (err) {
      if (!isCdcTooOld(err)) throw err;
    }
  }

  const asOf = await intuitNow(s, s.decls[0] as EntityDecl);
  const until = floorToSecond(asOf - opts.marginMs);
  for (const decl of s.decls) {
    for await (const batch of readWindow(s.query, decl, since, until, opts)) {
      if (batch.rows.length > 0 || batch.poisoned) {
        await apply({ entity: decl.name, rows: batch.rows, origin: 'query', poisoned: batch.poisoned });
      }
    }
  }
  const all = s.decls.map((d) => d.name);
  await advance(s, until, all, opts.marginMs);
  return { counts, mode: 'query', reconcile: all };
}

async function intuitNow(s: SyncSession, decl: EntityDecl): Promise<number> {
  const answer = await s.query({ entity: decl.name, count: true });
  const t = instantOf(answer.time);
  if (t === undefined) throw new MissingTimeError();
  return t;
}

/** Moves the CDC cursor forward (never back) and asks for reconciliation of what the delta could not see. */
async function advance(
  s: SyncSession,
  cursor: number,
  reconcile: readonly string[],
  marginMs: number,
): Promise<void> {
  await s.write(async (em) => {
    await execute(
      em,
      `update sync_target set cdc_since = greatest(cdc_since, $3),
         cdc_since_local = greatest(cdc_since_local, now() - make_interval(secs => $5)),
         reconcile_entities = array(select distinct unnest(reconcile_entities || $4::text[])),
         reconcile_at = case when cardinality($4::text[]) > 0 then now() else reconcile_at end
       where org_id = $1 and realm_id = $2`,
      [s.target.orgId, s.target.realmId, new Date(cursor).toISOString(), reconcile, marginMs / 1000],
    );
    await forgetServedNotices(em, s);
    await s.progress(em, { pages: 0 });
  });
}

/**
 * Notices the mirror now holds are served; a merge's stays until its merged-away record is deleted, and any
 * notice is forgotten after a week (a record of an entity not synced, or created and deleted unseen).
 */
async function forgetServedNotices(em: Em, s: SyncSession): Promise<void> {
  await execute(
    em,
    `delete from change_notice n using mirror_record m
     where n.org_id = $1 and n.realm_id = $2 and m.org_id = n.org_id and m.realm_id = n.realm_id
       and m.entity = n.entity and m.entity_id = n.entity_id
       and case when n.operation in ('Delete', 'Merge') then m.deleted_at is not null
         else m.last_updated >= n.last_updated end`,
    [s.target.orgId, s.target.realmId],
  );
  await execute(
    em,
    `delete from change_notice where org_id = $1 and realm_id = $2 and notified_at < now() - interval '7 days'`,
    [s.target.orgId, s.target.realmId],
  );
}

/** What webhooks said of this batch's records that a read cannot show: merges (both sides) and voids. */
async function noticeHints(em: Em, s: SyncSession, batch: DeltaBatch): Promise<Map<string, RecordHint>> {
  const rows = await query<{
    entity_id: string;
    operation: string;
    merged_into: string | null;
    last_updated: Date;
  }>(
    em,
    `select entity_id, operation, merged_into, last_updated from change_notice
     where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = any($4::text[])
       and operation in ('Merge', 'Void')`,
    [s.target.orgId, s.target.realmId, batch.entity, batch.rows.map((r) => String(r.Id))],
  );
  const times = new Map(batch.rows.map((r) => [String(r.Id), lastUpdatedOf(r)]));
  return new Map(
    rows.map((r): [string, RecordHint] => {
      if (r.operation === 'Void') return [r.entity_id, { voided: true }];
      if (r.merged_into) return [r.entity_id, { mergedInto: r.merged_into }];
      // The survivor: only the version the merge made, not a later one, is a merge's refresh.
      const at = times.get(r.entity_id);
      return [r.entity_id, { survivor: at !== undefined && at <= new Date(r.last_updated).getTime() }];
    }),
  );
}
