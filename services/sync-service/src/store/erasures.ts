import { execute, query } from '@qbo/service-kit';
import type { Em } from './sql.js';

export interface ErasureRequest {
  erasureId: string;
  orgId: string;
  /** One company's connection; absent: every company of the org. */
  connectionId?: string | undefined;
  requestedBy: string;
  via: 'api' | 'command';
  reason?: string | undefined;
}

export interface ErasureRecord {
  erasure_id: string;
  org_id: string;
  connection_id: string | null;
  requested_by: string;
  requested_via: string;
  reason: string | null;
  requested_at: Date;
  status: 'pending' | 'completed';
  completed_at: Date | null;
  counts: Record<string, number>;
  /** Companies whose purge has not finished, and whether a sync still holds the org's lease. */
  purges_pending: number;
  sync_running: boolean;
}

const COLUMNS = `e.erasure_id::text, e.org_id, e.connection_id::text, e.requested_by, e.requested_via, e.reason,
  e.requested_at, e.status, e.completed_at, e.counts,
  (select count(*)::int from data_purge d where d.erasure_id = e.erasure_id and d.status in ('pending', 'running'))
    as purges_pending,
  exists (select 1 from qbo_sync_sessions s where s.org_id = e.org_id and s.expires_at > clock_timestamp()
    and s.holder not like 'purge:%') as sync_running`;

export async function readErasure(
  em: Em,
  erasureId: string,
  scope: string | null,
): Promise<ErasureRecord | undefined> {
  const rows = await query<ErasureRecord>(
    em,
    `select ${COLUMNS} from data_erasure e where e.erasure_id = $1::uuid and ($2::text is null or e.org_id = $2)`,
    [erasureId, scope],
  );
  return rows[0];
}

/**
 * Records an erasure and stops the sync of the companies it covers, in the caller's transaction: each becomes
 * `erased` (never claimed again; a run in flight has its next write refused and stops, releasing the org's
 * lease) and gets a purge due now. Idempotent: the same erasure id, or an erasure of the same scope still
 * pending, is answered with the existing one. An erasure that covers no company completes at once, with no
 * counts. Resolves with the erasure's id, or undefined when a named connection is not the org's.
 */
export async function requestErasure(
  em: Em,
  r: ErasureRequest,
): Promise<{ erasureId: string; created: boolean } | undefined> {
  const existing = await query<{ erasure_id: string }>(
    em,
    `select erasure_id::text from data_erasure where erasure_id = $1::uuid
     union all
     (select erasure_id::text from data_erasure where org_id = $2 and connection_id is not distinct from $3::uuid
        and status = 'pending' order by requested_at limit 1)`,
    [r.erasureId, r.orgId, r.connectionId ?? null],
  );
  if (existing[0]) return { erasureId: existing[0].erasure_id, created: false };
  const targets = await query<{ realm_id: string; connection_id: string }>(
    em,
    `select realm_id, connection_id::text from sync_target
     where org_id = $1 and ($2::uuid is null or connection_id = $2::uuid) for update`,
    [r.orgId, r.connectionId ?? null],
  );
  if (r.connectionId !== undefined && targets.length === 0) return undefined;
  await execute(
    em,
    `insert into data_erasure (erasure_id, org_id, connection_id, requested_by, requested_via, reason, status,
       completed_at)
     values ($1::uuid, $2, $3::uuid, $4, $5, $6, $7, case when $7 = 'completed' then now() end)`,
    [
      r.erasureId,
      r.orgId,
      r.connectionId ?? null,
      r.requestedBy,
      r.via,
      r.reason ?? null,
      targets.length === 0 ? 'completed' : 'pending',
    ],
  );
  for (const t of targets) {
    await execute(
      em,
      `update sync_target set status = 'erased', status_at = greatest(status_at, now()), wanted_at = null,
         wanted_reason = null, updated_at = now()
       where org_id = $1 and realm_id = $2`,
      [r.orgId, t.realm_id],
    );
    await execute(
      em,
      `insert into data_purge (purge_id, org_id, realm_id, connection_id, reason, erasure_id, due_at)
       values (gen_random_uuid(), $1, $2, $3::uuid, 'erasure', $4::uuid, now())`,
      [r.orgId, t.realm_id, t.connection_id, r.erasureId],
    );
  }
  return { erasureId: r.erasureId, created: true };
}
