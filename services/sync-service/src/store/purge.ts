import { topics } from '@qbo/events';
import { execute, query } from '@qbo/service-kit';
import type { ConnectionFact } from './projection.js';
import type { Em } from './sql.js';

/** What a purge removed, by kind: its audit row, its erasure's and its `ConnectionDataPurged` carry it. */
export interface PurgeCounts {
  records: number;
  tombstones: number;
  checkpoints: number;
  runs: number;
  errors: number;
  apiCalls: number;
}

export const noCounts = (): PurgeCounts => ({
  records: 0,
  tombstones: 0,
  checkpoints: 0,
  runs: 0,
  errors: 0,
  apiCalls: 0,
});

export type PurgeReason = 'grace_expired' | 'erasure';

/** One company's purge, as the lifecycle job claims it. */
export interface Purge {
  purgeId: string;
  orgId: string;
  realmId: string;
  connectionId: string;
  reason: PurgeReason;
  erasureId: string | null;
  status: 'pending' | 'running';
  /** When its first step ran: rows written after it (a reconnect's) are not the purge's to remove. */
  startedAt: Date | null;
}

interface PurgeRow {
  purge_id: string;
  org_id: string;
  realm_id: string;
  connection_id: string;
  reason: PurgeReason;
  erasure_id: string | null;
  status: 'pending' | 'running';
  started_at: Date | null;
}

const fromRow = (r: PurgeRow): Purge => ({
  purgeId: r.purge_id,
  orgId: r.org_id,
  realmId: r.realm_id,
  connectionId: r.connection_id,
  reason: r.reason,
  erasureId: r.erasure_id,
  status: r.status,
  startedAt: r.started_at === null ? null : new Date(r.started_at),
});

/**
 * A disconnect's purge, due when the grace period after the disconnect's time ends. Only for the company's
 * current connection: a disconnect of one the sync never held has nothing to purge.
 */
export async function scheduleGracePurge(em: Em, fact: ConnectionFact, graceMs: number): Promise<void> {
  await execute(
    em,
    `insert into data_purge (purge_id, org_id, realm_id, connection_id, reason, due_at)
     select gen_random_uuid(), org_id, realm_id, connection_id, 'grace_expired',
       $4::timestamptz + make_interval(secs => $5::float8)
     from sync_target where org_id = $1 and realm_id = $2 and connection_id = $3::uuid`,
    [fact.orgId, fact.realmId, fact.connectionId, fact.at, graceMs / 1000],
  );
}

/**
 * Due purges no other replica works on, claimed for `claimMs`: a purge spans several transactions, and a
 * replica that dies in the middle leaves it to the next claim once the claim expires.
 */
export async function claimDuePurges(em: Em, limit: number, claimMs: number): Promise<Purge[]> {
  const rows = await query<PurgeRow>(
    em,
    `update data_purge set claimed_until = now() + make_interval(secs => $2::float8)
     where purge_id in (
       select purge_id from data_purge
       where status in ('pending', 'running') and due_at <= now()
         and (claimed_until is null or claimed_until < now())
       order by due_at limit $1 for update skip locked)
     returning purge_id::text, org_id, realm_id, connection_id::text, reason, erasure_id::text, status, started_at`,
    [limit, claimMs / 1000],
  );
  return rows.map(fromRow);
}

/**
 * The purge's first step, in one transaction with the company's row locked. A grace purge whose company was
 * reconnected (or erased) meanwhile is cancelled: the reconnect resumes from the cursors. Otherwise the
 * company's cursors and checkpoints go, so whatever connects it next loads it anew. Returns the start time,
 * or undefined when cancelled.
 */
export async function startPurge(
  em: Em,
  p: Purge,
): Promise<{ startedAt: Date; checkpoints: number } | undefined> {
  const target = await query<{ status: string; connection_id: string }>(
    em,
    'select status, connection_id::text from sync_target where org_id = $1 and realm_id = $2 for update',
    [p.orgId, p.realmId],
  );
  const row = target[0];
  if (
    p.reason === 'grace_expired' &&
    (row?.status !== 'disconnected' || row.connection_id !== p.connectionId)
  ) {
    await execute(
      em,
      `update data_purge set status = 'cancelled', finished_at = now(), claimed_until = null where purge_id = $1`,
      [p.purgeId],
    );
    return undefined;
  }
  await execute(
    em,
    `update sync_target set needs_load = true, load_run_id = null, load_until = null, load_until_local = null,
       load_entities = null, cdc_since = null, cdc_since_local = null, reconcile_entities = '{}',
       reconcile_at = null, wanted_at = null, wanted_reason = null, attempts = 0, last_error = null,
       last_synced_at = null, updated_at = now()
     where org_id = $1 and realm_id = $2`,
    [p.orgId, p.realmId],
  );
  const checkpoints = await execute(em, 'delete from load_checkpoint where org_id = $1 and realm_id = $2', [
    p.orgId,
    p.realmId,
  ]);
  const started = await query<{ started_at: Date }>(
    em,
    `update data_purge set status = 'running', started_at = coalesce(started_at, now()) where purge_id = $1
     returning started_at`,
    [p.purgeId],
  );
  return { startedAt: new Date((started[0] as { started_at: Date }).started_at), checkpoints };
}

/** A batch of the connection's mirror rows, locked for deletion: the live ones need a delete on the feed. */
export async function mirrorBatch(
  em: Em,
  p: Purge,
  limit: number,
): Promise<{ entity: string; entity_id: string; live: boolean }[]> {
  return query(
    em,
    `select entity, entity_id, deleted_at is null as live from mirror_record
     where org_id = $1 and realm_id = $2 and connection_id = $3::uuid
     order by entity, entity_id limit $4 for update`,
    [p.orgId, p.realmId, p.connectionId, limit],
  );
}

export async function deleteMirrorRows(
  em: Em,
  p: Purge,
  rows: readonly { entity: string; entity_id: string }[],
): Promise<number> {
  return execute(
    em,
    `delete from mirror_record m using unnest($4::text[], $5::text[]) as k(entity, entity_id)
     where m.org_id = $1 and m.realm_id = $2 and m.connection_id = $3::uuid
       and m.entity = k.entity and m.entity_id = k.entity_id`,
    [p.orgId, p.realmId, p.connectionId, rows.map((r) => r.entity), rows.map((r) => r.entity_id)],
  );
}

/**
 * One batch of the company's other rows written before the purge began, table by table: what a record error,
 * a notice, a retry, a run or an API call says of its records. Returns what it deleted; all zero when done.
 */
export async function purgeRowsBatch(
  em: Em,
  p: Purge,
  before: Date,
  limit: number,
): Promise<Pick<PurgeCounts, 'runs' | 'errors' | 'apiCalls'> & { other: number }> {
  const args = [p.orgId, p.realmId, before.toISOString(), limit];
  const batch = (table: string, time: string) =>
    execute(
      em,
      `delete from ${table} where ctid in (select ctid from ${table}
         where org_id = $1 and realm_id = $2 and ${time} < $3::timestamptz limit $4)`,
      args,
    );
  const errors = await batch('sync_error', 'first_seen_at');
  const notices = await batch('change_notice', 'notified_at');
  const retries = await batch('sync_retry', 'requested_at');
  // Write-back commands hold the records written and, in their results, QuickBooks' own copies.
  const pushes = await batch('sync_push', 'received_at');
  const runIds = await query<{ run_id: string }>(
    em,
    `select run_id::text from sync_run where org_id = $1 and realm_id = $2 and started_at < $3::timestamptz
     limit $4`,
    args,
  );
  const ids = runIds.map((r) => r.run_id);
  await execute(em, 'delete from sync_run_entity where run_id = any($1::uuid[])', [ids]);
  const runs = await execute(em, 'delete from sync_run where run_id = any($1::uuid[])', [ids]);
  // Only the org's own calls: two orgs may hold one realm, and a call logged without an org may be the other's.
  const apiCalls = await execute(
    em,
    `delete from qbo_api_log where id in (select id from qbo_api_log
       where realm_id = $2 and org_id = $1 and at < $3::timestamptz limit $4)`,
    args,
  );
  return { runs, errors, apiCalls, other: notices + retries + pushes };
}

/**
 * A state-topic key of the company (`orgId:realmId:entity:id`, the prefix in `$4`): exactly two parts after the
 * prefix, since an org id may itself hold ':' and another org's `org:realm:` can begin with this one's prefix.
 */
const OWN_STATE_KEY = `starts_with(key, $4) and array_length(string_to_array(substr(key, length($4) + 1), ':'), 1) = 2`;

/** Whether the outbox still holds unsent events of the company (the relay publishes them within moments). */
export async function hasUnsentEvents(em: Em, p: Purge): Promise<boolean> {
  const rows = await query(
    em,
    `select 1 from outbox where sent_at is null and (
       (key = $1 and payload->>'realmId' = $2) or (topic = $3 and ${OWN_STATE_KEY})) limit 1`,
    [p.orgId, p.realmId, topics.recordsState, `${p.orgId}:${p.realmId}:`],
  );
  return rows.length > 0;
}

/** Sent outbox rows of the company: published copies of its records, kept for the relay's own retention. */
export async function purgeSentEvents(em: Em, p: Purge): Promise<number> {
  return execute(
    em,
    `delete from outbox where sent_at is not null and (
       (key = $1 and payload->>'realmId' = $2 and type <> 'ConnectionDataPurged')
       or (topic = $3 and ${OWN_STATE_KEY}))`,
    [p.orgId, p.realmId, topics.recordsState, `${p.orgId}:${p.realmId}:`],
  );
}

/** Adds to the purge's counts (kept in its row, so a purge spread over several turns counts it all). */
export async function addPurgeCounts(em: Em, purgeId: string, add: Partial<PurgeCounts>): Promise<void> {
  await execute(
    em,
    `update data_purge set counts = (
       select coalesce(jsonb_object_agg(k, coalesce((counts->>k)::int, 0) + coalesce(($2::jsonb->>k)::int, 0)), '{}')
       from jsonb_object_keys(counts || $2::jsonb) as k),
       claimed_until = greatest(claimed_until, now() + interval '30 seconds')
     where purge_id = $1`,
    [purgeId, JSON.stringify(add)],
  );
}

export async function purgeCounts(em: Em, purgeId: string): Promise<PurgeCounts> {
  const rows = await query<{ counts: Partial<PurgeCounts> }>(
    em,
    'select counts from data_purge where purge_id = $1',
    [purgeId],
  );
  return { ...noCounts(), ...rows[0]?.counts };
}

/**
 * The purge's last write: its row completed with the event that announced it; a grace purge also removes the
 * company's row when it still waits for a reconnect (a later connect starts from nothing). An erasure keeps its
 * `erased` row, so a connection event older than the erasure cannot bring the company back.
 */
export async function completePurge(em: Em, p: Purge, eventId: string): Promise<void> {
  await execute(
    em,
    `update data_purge set status = 'completed', finished_at = now(), event_id = $2::uuid, claimed_until = null
     where purge_id = $1`,
    [p.purgeId, eventId],
  );
  if (p.reason === 'grace_expired') {
    await execute(
      em,
      `delete from sync_target where org_id = $1 and realm_id = $2 and connection_id = $3::uuid
         and status = 'disconnected'`,
      [p.orgId, p.realmId, p.connectionId],
    );
  }
  if (p.erasureId !== null) {
    await execute(
      em,
      `update data_erasure e set status = 'completed', completed_at = now(), counts = (
         select coalesce(jsonb_object_agg(k, total), '{}') from (
           select k, sum((d.counts->>k)::int) as total from data_purge d, jsonb_object_keys(d.counts) k
           where d.erasure_id = e.erasure_id group by k) s)
       where erasure_id = $1 and status = 'pending'
         and not exists (select 1 from data_purge where erasure_id = $1 and status in ('pending', 'running'))`,
      [p.erasureId],
    );
  }
}

/** Lets the next turn (of any replica) take up a purge this turn left unfinished. */
export async function releasePurgeClaim(em: Em, purgeId: string): Promise<void> {
  await execute(
    em,
    `update data_purge set claimed_until = null where purge_id = $1 and status in ('pending', 'running')`,
    [purgeId],
  );
}
