import { execute, query } from '@qbo/service-kit';
import type { PoisonedRecord } from '../sync/poison.js';
import type { Target } from './feed.js';
import type { Em } from './sql.js';

/** Intuit's fault code → the error category of the row: 4002 is a query Intuit refused, 10000 its own failure. */
const categoryOf = (code: string) => (code === '10000' ? 'server' : 'validation');

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The key of a poisoned record: its Id when known, else its range and position by Id. */
export function recordKey(p: PoisonedRecord): string {
  return p.entityId ?? `${iso(p.from)}..${iso(p.to)}#${p.position ?? 0}`;
}

/** Keeps one error row per record Intuit could not return, in the caller's transaction; a repeat counts. */
export async function recordPoisoned(
  em: Em,
  target: Target,
  runId: string,
  records: readonly PoisonedRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((p) => ({
    entity: p.entity,
    record_key: recordKey(p),
    entity_id: p.entityId ?? null,
    range_from: iso(p.from),
    range_to: iso(p.to),
    position: p.position ?? null,
    after_id: p.afterId ?? null,
    category: categoryOf(p.code),
    code: p.code,
  }));
  await execute(
    em,
    `insert into sync_error as e (org_id, realm_id, entity, record_key, entity_id, range_from, range_to, position,
       after_id, category, code, first_run_id, last_run_id)
     select distinct on (r.entity, r.record_key) $1, $2, r.entity, r.record_key, r.entity_id, r.range_from,
       r.range_to, r.position, r.after_id, r.category, r.code, $3::uuid, $3::uuid
     from jsonb_to_recordset($4::jsonb) as r(entity text, record_key text, entity_id text,
       range_from timestamptz, range_to timestamptz, position int, after_id text, category text, code text)
     on conflict (org_id, realm_id, entity, record_key) do update set
       last_run_id = excluded.last_run_id, last_seen_at = now(), code = excluded.code,
       category = excluded.category, attempts = e.attempts + 1`,
    [target.orgId, target.realmId, runId, JSON.stringify(rows)],
  );
}

/** How many records a run could not read. */
export async function runErrorCount(em: Em, runId: string): Promise<number> {
  const rows = await query<{ n: number }>(
    em,
    'select count(*)::int as n from sync_error where last_run_id = $1',
    [runId],
  );
  return rows[0]?.n ?? 0;
}
