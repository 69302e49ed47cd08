import { execute, query } from '@qbo/service-kit';
import type { OrgScope } from './run-reads.js';
import type { Em } from './sql.js';

/** A company's sync as the API shows it, found by its current connection. */
export interface ControlRecord {
  org_id: string;
  realm_id: string;
  connection_id: string;
  status: string;
  entities: string[];
  paused_at: Date | null;
  interval_ms: string | null;
  schedule_at: Date | null;
  wanted_at: Date | null;
  last_synced_at: Date | null;
  needs_load: boolean;
}

const COLUMNS = `org_id, realm_id, connection_id::text, status, entities, paused_at, interval_ms::text,
  case when schedule_at = 'infinity' then null else schedule_at end as schedule_at, wanted_at, last_synced_at,
  needs_load`;

export function listControls(em: Em, scope: OrgScope): Promise<ControlRecord[]> {
  return query<ControlRecord>(
    em,
    `select ${COLUMNS} from sync_target where ($1::text is null or org_id = $1) order by org_id, realm_id`,
    [scope],
  );
}

export async function getControl(
  em: Em,
  scope: OrgScope,
  connectionId: string,
): Promise<ControlRecord | undefined> {
  const rows = await query<ControlRecord>(
    em,
    `select ${COLUMNS} from sync_target where connection_id = $1::uuid and ($2::text is null or org_id = $2)`,
    [connectionId, scope],
  );
  return rows[0];
}

/** Pauses a company: the worker claims it no more (see `dueTargets`). Pausing again keeps the first time. */
export async function pause(em: Em, t: { orgId: string; realmId: string }): Promise<void> {
  await execute(
    em,
    `update sync_target set paused_at = coalesce(paused_at, now()), updated_at = now()
     where org_id = $1 and realm_id = $2`,
    [t.orgId, t.realmId],
  );
}

/**
 * Ends a pause and asks for a sync at once, which serves what was notified meanwhile. Resolves with whether the
 * company was paused.
 */
export async function resume(em: Em, t: { orgId: string; realmId: string }): Promise<boolean> {
  const changed = await execute(
    em,
    `update sync_target set paused_at = null, wanted_at = now(), wanted_reason = 'resume', updated_at = now()
     where org_id = $1 and realm_id = $2 and paused_at is not null`,
    [t.orgId, t.realmId],
  );
  return changed > 0;
}

/** Whether a company is paused now: a run in flight stops at its next heartbeat when it is. */
export async function isPaused(em: Em, t: { orgId: string; realmId: string }): Promise<boolean> {
  const rows = await query<{ paused: boolean }>(
    em,
    'select paused_at is not null as paused from sync_target where org_id = $1 and realm_id = $2',
    [t.orgId, t.realmId],
  );
  return rows[0]?.paused === true;
}

/**
 * Sets the company's own interval between deltas (null: the service's default). A shorter interval applies to
 * the next run already: the schedule moves to the last sync plus the new interval when that comes sooner. A
 * company waiting for a reconnect (schedule at infinity) keeps waiting.
 */
export async function setSyncInterval(
  em: Em,
  t: { orgId: string; realmId: string },
  intervalMs: number | null,
  defaultMs: number,
): Promise<void> {
  await execute(
    em,
    `update sync_target set interval_ms = $3::bigint, updated_at = now(),
       schedule_at = case when schedule_at = 'infinity' or last_synced_at is null then schedule_at
         else least(schedule_at, last_synced_at + make_interval(secs => $4::float8 / 1000)) end
     where org_id = $1 and realm_id = $2`,
    [t.orgId, t.realmId, intervalMs, intervalMs ?? defaultMs],
  );
}
