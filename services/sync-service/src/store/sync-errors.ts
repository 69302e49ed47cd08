import { execute, query } from '@qbo/service-kit';
import { type FailureSummary, recordFailure } from '../domain/failure.js';
import type { PoisonedRecord } from '../sync/poison.js';
import type { Target } from './feed.js';
import type { Em } from './sql.js';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The key of a poisoned record: its Id when known, else its range and position by Id. */
export function recordKey(p: PoisonedRecord): string {
  return p.entityId ?? `${iso(p.from)}..${iso(p.to)}#${p.position ?? 0}`;
}

/**
 * Keeps one error row per record Intuit could not return, in the caller's transaction: a repeat counts an
 * attempt, and a row closed earlier opens again. Counts the failures in the run's per-entity audit row.
 */
export async function recordPoisoned(
  em: Em,
  target: Target,
  runId: string,
  records: readonly PoisonedRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((p) => {
    const known = recordFailure(p.code);
    return {
      entity: p.entity,
      record_key: recordKey(p),
      entity_id: p.entityId ?? null,
      range_from: iso(p.from),
      range_to: iso(p.to),
      position: p.position ?? null,
      after_id: p.afterId ?? null,
      category: known.category,
      code: p.code,
      retryable: known.retryable,
      remediation: known.remediation,
      api_call_id: p.callId ?? null,
    };
  });
  await execute(
    em,
    `insert into sync_error as e (org_id, realm_id, entity, record_key, entity_id, range_from, range_to, position,
       after_id, category, code, retryable, remediation, api_call_id, first_run_id, last_run_id)
     select distinct on (r.entity, r.record_key) $1, $2, r.entity, r.record_key, r.entity_id, r.range_from,
       r.range_to, r.position, r.after_id, r.category, r.code, r.retryable, r.remediation, r.api_call_id,
       $3::uuid, $3::uuid
     from jsonb_to_recordset($4::jsonb) as r(entity text, record_key text, entity_id text,
       range_from timestamptz, range_to timestamptz, position int, after_id text, category text, code text,
       retryable boolean, remediation text, api_call_id uuid)
     on conflict (org_id, realm_id, entity, record_key) do update set
       last_run_id = excluded.last_run_id, last_seen_at = now(), code = excluded.code,
       category = excluded.category, retryable = excluded.retryable, remediation = excluded.remediation,
       api_call_id = coalesce(excluded.api_call_id, e.api_call_id), attempts = e.attempts + 1,
       resolved_at = null, resolved_by = null, resolved_run_id = null`,
    [target.orgId, target.realmId, runId, JSON.stringify(rows)],
  );
  const perEntity = new Map<string, number>();
  for (const r of records) perEntity.set(r.entity, (perEntity.get(r.entity) ?? 0) + 1);
  for (const [entity, failures] of perEntity) {
    await countRunEntity(em, runId, entity, { failures });
  }
}

/**
 * Closes the open error rows of records just read whole (`resolved_by = 'read'`): a record fixed in
 * QuickBooks and read again by any later run, a webhook's delta or a retry, no longer shows as failing.
 */
export async function closeReadRecords(
  em: Em,
  target: Target,
  entity: string,
  ids: readonly string[],
  runId: string,
): Promise<void> {
  if (ids.length === 0) return;
  await execute(
    em,
    `update sync_error set resolved_at = now(), resolved_by = 'read', resolved_run_id = $5::uuid
     where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = any($4::text[])
       and resolved_at is null and kind = 'record'`,
    [target.orgId, target.realmId, entity, ids, runId],
  );
}

/**
 * A run's own failure as a row (kind `run`), one per code and company: a repeat counts an attempt and moves
 * last seen; the entity is the one the failing call was about, `*` when none.
 */
export async function recordRunError(
  em: Em,
  target: Target,
  runId: string,
  failure: FailureSummary,
  extra: { callId?: string | undefined; entity?: string | undefined },
): Promise<void> {
  await execute(
    em,
    `insert into sync_error as e (org_id, realm_id, entity, record_key, kind, category, code, retryable,
       remediation, api_call_id, first_run_id, last_run_id)
     values ($1, $2, $3, $4, 'run', $5, $6, $7, $8, $9::uuid, $10::uuid, $10::uuid)
     on conflict (org_id, realm_id, entity, record_key) do update set
       last_run_id = excluded.last_run_id, last_seen_at = now(), category = excluded.category,
       retryable = excluded.retryable, remediation = excluded.remediation,
       api_call_id = coalesce(excluded.api_call_id, e.api_call_id),
       attempts = case when e.resolved_at is null then e.attempts + 1 else 1 end,
       first_run_id = case when e.resolved_at is null then e.first_run_id else excluded.first_run_id end,
       first_seen_at = case when e.resolved_at is null then e.first_seen_at else now() end,
       resolved_at = null, resolved_by = null, resolved_run_id = null`,
    [
      target.orgId,
      target.realmId,
      extra.entity ?? '*',
      `run:${failure.code}`,
      failure.category,
      failure.code,
      failure.retryable,
      failure.remediation ?? recordFailure(failure.code).remediation,
      extra.callId ?? null,
      runId,
    ],
  );
}

/** A run that completed closes the company's open run failures. */
export async function closeRunErrors(em: Em, target: Target, runId: string): Promise<void> {
  await execute(
    em,
    `update sync_error set resolved_at = now(), resolved_by = 'run_completed', resolved_run_id = $3::uuid
     where org_id = $1 and realm_id = $2 and kind = 'run' and resolved_at is null`,
    [target.orgId, target.realmId, runId],
  );
}

/** How many records a run could not read (a place's row named by its Id is the same record, counted once). */
export async function runErrorCount(em: Em, runId: string): Promise<number> {
  const rows = await query<{ n: number }>(
    em,
    `select count(*)::int as n from sync_error where last_run_id = $1 and kind = 'record'
       and resolved_by is distinct from 'named'`,
    [runId],
  );
  return rows[0]?.n ?? 0;
}

export interface EntityCounts {
  pages?: number;
  upserted?: number;
  deleted?: number;
  unchanged?: number;
  failures?: number;
  calls?: number;
}

/** Adds to a run's per-entity audit row, in the transaction of what it counts. */
export async function countRunEntity(em: Em, runId: string, entity: string, c: EntityCounts): Promise<void> {
  await execute(
    em,
    `insert into sync_run_entity (run_id, entity, pages, upserted, deleted, unchanged, failures, api_calls)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (run_id, entity) do update set pages = sync_run_entity.pages + excluded.pages,
       upserted = sync_run_entity.upserted + excluded.upserted,
       deleted = sync_run_entity.deleted + excluded.deleted,
       unchanged = sync_run_entity.unchanged + excluded.unchanged,
       failures = sync_run_entity.failures + excluded.failures,
       api_calls = sync_run_entity.api_calls + excluded.api_calls`,
    [
      runId,
      entity,
      c.pages ?? 0,
      c.upserted ?? 0,
      c.deleted ?? 0,
      c.unchanged ?? 0,
      c.failures ?? 0,
      c.calls ?? 0,
    ],
  );
}

/** An open error row of a record known only by its place: a position in a LastUpdatedTime range. */
export interface OpenPlace {
  errorId: string;
  from: number;
  to: number;
}

/**
 * The entity's open rows of records known only by their place, each the only place row its range ever had
 * (open or closed): such a range held one record Intuit could not return. The most recently seen first.
 */
export async function lonePlaces(
  em: Em,
  target: Target,
  entity: string,
  limit: number,
): Promise<OpenPlace[]> {
  const rows = await query<{ error_id: string; range_from: Date; range_to: Date }>(
    em,
    `select error_id::text, range_from, range_to from (
       select error_id, range_from, range_to, resolved_at, last_seen_at,
         count(*) over (partition by range_from, range_to) as sharing
       from sync_error
       where org_id = $1 and realm_id = $2 and entity = $3 and kind = 'record' and entity_id is null
         and range_from is not null and range_to is not null) p
     where resolved_at is null and sharing = 1
     order by last_seen_at desc limit $4`,
    [target.orgId, target.realmId, entity, limit],
  );
  return rows.map((r) => ({
    errorId: r.error_id,
    from: new Date(r.range_from).getTime(),
    to: new Date(r.range_to).getTime(),
  }));
}

/** Closes a place's row as `named`: the record standing there failed by its Id too, and has a row by it. */
export async function closeNamedPlace(em: Em, target: Target, errorId: string, runId: string): Promise<void> {
  await execute(
    em,
    `update sync_error set resolved_at = now(), resolved_by = 'named', resolved_run_id = $4::uuid
     where org_id = $1 and realm_id = $2 and error_id = $3::uuid and resolved_at is null`,
    [target.orgId, target.realmId, errorId, runId],
  );
}
