import { currentTraceparent } from '@qbo/event-bus';
import { execute, query } from '@qbo/service-kit';
import type { Em } from './sql.js';
import { askedTraceSet, type TargetStatus } from './targets.js';

export interface ConnectionFact {
  orgId: string;
  realmId: string;
  connectionId: string;
  /** When the fact happened (the event's time): an older fact never overrides a newer one. */
  at: string;
}

/**
 * A connection became usable (connected, reconnected, reauthorized): the company is synced from where its
 * cursors stand, or loaded when it has none. A fact older than what the row already reflects changes nothing,
 * so events arriving out of order across topics (a reauthorization before the deactivation it follows) settle
 * on the newest. The run continues the connection event's trace.
 */
export async function connectionUsable(
  em: Em,
  fact: ConnectionFact,
  entities: readonly string[],
  traceparent: string | undefined = currentTraceparent(),
) {
  return execute(
    em,
    `insert into sync_target (org_id, realm_id, connection_id, status, status_at, entities, wanted_at, wanted_reason,
       wanted_traceparent)
     values ($1, $2, $3, 'active', $4, $5, now(), 'connection', $6::text)
     on conflict (org_id, realm_id) do update set connection_id = excluded.connection_id, status = 'active',
       status_at = excluded.status_at, wanted_at = now(), ${askedTraceSet('$6', true)},
       wanted_reason = 'connection', attempts = 0, schedule_at = least(sync_target.schedule_at, now()),
       updated_at = now()
     where sync_target.status_at <= excluded.status_at`,
    [fact.orgId, fact.realmId, fact.connectionId, fact.at, entities, traceparent ?? null],
  );
}

/** The connection stopped (deactivated or disconnected): no further calls until a newer usable fact. */
export async function connectionStopped(
  em: Em,
  fact: ConnectionFact,
  status: Exclude<TargetStatus, 'active'>,
) {
  return execute(
    em,
    `update sync_target set status = $5, status_at = $4, updated_at = now()
     where org_id = $1 and realm_id = $2 and connection_id = $3 and status_at <= $4`,
    [fact.orgId, fact.realmId, fact.connectionId, fact.at, status],
  );
}

export interface Notice {
  orgId: string;
  realmId: string;
  entity: string;
  entityId: string;
  operation: string;
  lastUpdated: string;
  mergedInto?: string | undefined;
}

/**
 * Keeps the newest notified change of a record. True when the mirror does not hold that change yet (a sync is
 * worth asking for); false when it already does, so the notification costs no call.
 */
export async function notice(em: Em, n: Notice): Promise<boolean> {
  const held = await query(
    em,
    `select 1 from mirror_record where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = $4
       and (case when $6 in ('Delete', 'Merge') then deleted_at is not null else last_updated >= $5 end)`,
    [n.orgId, n.realmId, n.entity, n.entityId, n.lastUpdated, n.operation],
  );
  if (held.length > 0) return false;
  // Only for a company being synced: a stopped or erased one keeps nothing of its records (a reconnect's CDC
  // call reads what changed meanwhile anyway).
  const active = await query(
    em,
    `select 1 from sync_target where org_id = $1 and realm_id = $2 and status = 'active'`,
    [n.orgId, n.realmId],
  );
  if (active.length === 0) return false;
  await execute(
    em,
    `insert into change_notice (org_id, realm_id, entity, entity_id, operation, last_updated, merged_into)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (org_id, realm_id, entity, entity_id) do update set operation = excluded.operation,
       last_updated = excluded.last_updated, merged_into = excluded.merged_into, notified_at = now()
     where change_notice.last_updated <= excluded.last_updated`,
    [n.orgId, n.realmId, n.entity, n.entityId, n.operation, n.lastUpdated, n.mergedInto ?? null],
  );
  return true;
}
