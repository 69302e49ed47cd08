import type { EntityManager } from '@mikro-orm/postgresql';
import { execute, query } from '@qbo/service-kit';
import { iso } from './time.js';

/** MikroORM's entity manager (a transaction's, inside `transactional`). */
export type Em = EntityManager;

/** A credential row with its sealed data key, as the vault's statements read it. */
export interface CredentialRow {
  connection_id: string;
  org_id: string;
  realm_id: string;
  environment: string;
  scopes: string[];
  status: 'active' | 'degraded' | 'deactivated' | 'disconnected';
  credential_version: number;
  access_token_sealed: string | null;
  refresh_token_sealed: string | null;
  last_good_refresh_token_sealed: string | null;
  access_token_expires_at: Date | null;
  refresh_token_expires_at: Date | null;
  refresh_token_hard_expires_at: Date | null;
  grant_created_at: Date;
  last_refreshed_at: Date | null;
  next_refresh_at: Date | null;
  last_used_at: Date | null;
  degraded_since: Date | null;
  attempts: number;
  last_error_code: string | null;
  deactivation_reason: 'invalid_grant' | 'refresh_token_expired' | 'revoked' | null;
  reconnect_soon_sent_at: Date | null;
  forced_refresh_at: Date | null;
  revoke_pending_since: Date | null;
  revoke_attempts: number;
  next_revoke_at: Date | null;
  sealed_key: string | null;
}

const SELECT = `select c.*, d.sealed_key from credential c left join data_key d using (connection_id)
  where c.connection_id = $1`;

const LOCKS = { none: '', wait: ' for update of c', skip: ' for update of c skip locked' } as const;

/** One connection's row; `wait` and `skip` lock it for the caller's transaction. */
export async function readCredential(
  em: Em,
  connectionId: string,
  lock: keyof typeof LOCKS = 'none',
): Promise<CredentialRow | undefined> {
  const [row] = await query<CredentialRow>(em, SELECT + LOCKS[lock], [connectionId]);
  return row;
}

/** Bounds, for the rest of the caller's transaction, the wait for a row another replica holds. */
export const limitLockWait = (em: Em, ms: number) =>
  execute(em, `set local lock_timeout = ${Math.round(ms)}`);

export async function insertCredential(
  em: Em,
  c: { connectionId: string; orgId: string; realmId: string; environment: string; scopes: readonly string[] },
  sealedKey: string,
  now: number,
): Promise<void> {
  await execute(
    em,
    `insert into credential (connection_id, org_id, realm_id, environment, scopes, status,
      credential_version, grant_created_at, updated_at)
     values ($1, $2, $3, $4, $5::jsonb, 'active', 0, $6, $6)`,
    [c.connectionId, c.orgId, c.realmId, c.environment, JSON.stringify(c.scopes), iso(now)],
  );
  await execute(em, 'insert into data_key (connection_id, sealed_key) values ($1, $2)', [
    c.connectionId,
    sealedKey,
  ]);
}

/** A new grant: fresh health, a fresh five-year window, no fallback from the old grant. */
export async function writeGrant(
  em: Em,
  g: {
    connectionId: string;
    environment: string;
    scopes: readonly string[];
    version: number;
    accessSealed: string;
    refreshSealed: string;
    accessExpiresAt: number;
    refreshExpiresAt: number;
    hardExpiresAt: number;
    nextRefreshAt: number;
    now: number;
  },
): Promise<void> {
  await execute(
    em,
    `update credential set environment = $2, scopes = $3::jsonb, status = 'active', credential_version = $4,
      access_token_sealed = $5, refresh_token_sealed = $6, last_good_refresh_token_sealed = null,
      access_token_expires_at = $7, refresh_token_expires_at = $8, refresh_token_hard_expires_at = $9,
      grant_created_at = $10, next_refresh_at = $11, last_used_at = $10, degraded_since = null, attempts = 0,
      last_error_code = null, deactivation_reason = null, reconnect_soon_sent_at = null, updated_at = $10
     where connection_id = $1`,
    [
      g.connectionId,
      g.environment,
      JSON.stringify(g.scopes),
      g.version,
      g.accessSealed,
      g.refreshSealed,
      iso(g.accessExpiresAt),
      iso(g.refreshExpiresAt),
      iso(g.hardExpiresAt),
      iso(g.now),
      iso(g.nextRefreshAt),
    ],
  );
}

/** A successful refresh: new sealed tokens and expiries, healthy again. */
export async function writeRefreshed(
  em: Em,
  r: {
    connectionId: string;
    version: number;
    accessSealed: string;
    refreshSealed: string;
    lastGoodSealed: string | null;
    accessExpiresAt: number;
    refreshExpiresAt: number;
    hardExpiresAt: number;
    nextRefreshAt: number;
    reconnectSoonAt: number | null;
    now: number;
  },
): Promise<void> {
  await execute(
    em,
    `update credential set credential_version = $2, access_token_sealed = $3, refresh_token_sealed = $4,
      last_good_refresh_token_sealed = $5, access_token_expires_at = $6, refresh_token_expires_at = $7,
      refresh_token_hard_expires_at = $8, last_refreshed_at = $9, next_refresh_at = $10, status = 'active',
      degraded_since = null, attempts = 0, last_error_code = null,
      reconnect_soon_sent_at = coalesce(reconnect_soon_sent_at, $11), updated_at = $9
     where connection_id = $1`,
    [
      r.connectionId,
      r.version,
      r.accessSealed,
      r.refreshSealed,
      r.lastGoodSealed,
      iso(r.accessExpiresAt),
      iso(r.refreshExpiresAt),
      iso(r.hardExpiresAt),
      iso(r.now),
      iso(r.nextRefreshAt),
      iso(r.reconnectSoonAt),
    ],
  );
}

/** The grant is dead: its tokens are worthless, so they are dropped rather than kept sealed. */
export async function writeDeactivated(
  em: Em,
  d: { connectionId: string; reason: string; attempts: number; errorCode: string | null; now: number },
): Promise<void> {
  await execute(
    em,
    `update credential set status = 'deactivated', deactivation_reason = $2, attempts = $3,
      last_error_code = $4, next_refresh_at = null, access_token_sealed = null, refresh_token_sealed = null,
      last_good_refresh_token_sealed = null, updated_at = $5
     where connection_id = $1`,
    [d.connectionId, d.reason, d.attempts, d.errorCode, iso(d.now)],
  );
}

/** A transient failure: the health it leaves and when to try again. */
export async function writeRetry(
  em: Em,
  r: {
    connectionId: string;
    degradedSince: number | null;
    attempts: number;
    errorCode: string | null;
    retryAt: number;
    now: number;
  },
): Promise<void> {
  await execute(
    em,
    `update credential set status = $2, degraded_since = $3, attempts = $4, last_error_code = $5,
      next_refresh_at = $6, updated_at = $7
     where connection_id = $1`,
    [
      r.connectionId,
      r.degradedSince === null ? 'active' : 'degraded',
      iso(r.degradedSince),
      r.attempts,
      r.errorCode,
      iso(r.retryAt),
      iso(r.now),
    ],
  );
}

/**
 * Pauses refreshing for the app's credentials, to be probed from `probeAt`; true for the one call that paused
 * it.
 */
export async function pauseApp(
  em: Em,
  clientFingerprint: string,
  errorCode: string,
  now: number,
  probeAt: number,
) {
  const inserted = await query(
    em,
    `insert into app_pause (client_fingerprint, error_code, paused_at, probe_at) values ($1, $2, $3, $4)
     on conflict (client_fingerprint) do nothing returning 1`,
    [clientFingerprint, errorCode, iso(now), iso(probeAt)],
  );
  return inserted.length > 0;
}

export async function isAppPaused(em: Em, clientFingerprint: string): Promise<boolean> {
  const rows = await query(em, 'select 1 from app_pause where client_fingerprint = $1', [clientFingerprint]);
  return rows.length > 0;
}

/** Takes the turn to probe a paused app (one replica, once per interval); true when this call took it. */
export async function claimProbe(em: Em, clientFingerprint: string, now: number, nextProbeAt: number) {
  const rows = await query(
    em,
    `update app_pause set probe_at = $3 where client_fingerprint = $1 and (probe_at is null or probe_at <= $2)
     returning 1`,
    [clientFingerprint, iso(now), iso(nextProbeAt)],
  );
  return rows.length > 0;
}

/** Lifts the app's pause; the time it was paused since, for the one call that lifted it. */
export async function resumeApp(em: Em, clientFingerprint: string): Promise<Date | undefined> {
  const [row] = await query<{ paused_at: Date }>(
    em,
    'delete from app_pause where client_fingerprint = $1 returning paused_at',
    [clientFingerprint],
  );
  return row?.paused_at;
}

/** The connection a probe of a paused app refreshes: the one due longest. */
export async function probeCandidate(em: Em): Promise<string | undefined> {
  const [row] = await query<{ connection_id: string }>(
    em,
    `select connection_id from credential where status in ('active', 'degraded') and next_refresh_at is not null
     order by next_refresh_at limit 1`,
  );
  return row?.connection_id;
}

/** A compare-and-refresh is about to call Intuit: the throttle counts from here. */
export const noteForcedRefresh = (em: Em, connectionId: string, now: number) =>
  execute(em, 'update credential set forced_refresh_at = $2 where connection_id = $1', [
    connectionId,
    iso(now),
  ]);

/** Lazy re-encryption after a key-ring rotation; the compare keeps a racing shred or re-seal intact. */
export const resealDataKey = (em: Em, connectionId: string, resealed: string, previous: string) =>
  execute(em, 'update data_key set sealed_key = $2 where connection_id = $1 and sealed_key = $3', [
    connectionId,
    resealed,
    previous,
  ]);

/** Data keys sealed by a ring key other than the active one (and known to the ring), for the re-seal sweep. */
export const dataKeysToReseal = (em: Em, activeKid: string, knownKids: readonly string[], limit: number) =>
  query<{ connection_id: string; sealed_key: string }>(
    em,
    `select connection_id, sealed_key from data_key
     where split_part(sealed_key, '.', 2) <> $1 and split_part(sealed_key, '.', 2) = any($2::text[]) limit $3`,
    [activeKid, [...knownKids], limit],
  );

/** Notes use, pulling an active row's schedule forward to `ahead`; a null schedule (revoked) stays null. */
export const noteUse = (em: Em, connectionId: string, now: number, ahead: number) =>
  execute(
    em,
    `update credential set last_used_at = $2,
      next_refresh_at = case when status = 'active' and next_refresh_at is not null then least(next_refresh_at, $3)
        else next_refresh_at end
     where connection_id = $1`,
    [connectionId, iso(now), iso(ahead)],
  );

/** Revoked at Intuit: answer 410 from now on, and no more scheduled refreshes. */
export const markRevoked = (em: Em, connectionId: string, now: number) =>
  execute(
    em,
    `update credential set status = 'disconnected', next_refresh_at = null, updated_at = $2
     where connection_id = $1`,
    [connectionId, iso(now)],
  );

/** Crypto-shredding: the data key goes, the sealed values with it, and scheduling stops. */
export async function shredCredential(em: Em, connectionId: string, now: number): Promise<void> {
  await execute(em, 'delete from data_key where connection_id = $1', [connectionId]);
  await execute(
    em,
    `update credential set status = 'disconnected', access_token_sealed = null, refresh_token_sealed = null,
      last_good_refresh_token_sealed = null, next_refresh_at = null, next_revoke_at = null, updated_at = $2
     where connection_id = $1`,
    [connectionId, iso(now)],
  );
}

/**
 * A disconnect whose revoke at Intuit failed: everything but the refresh token (what a revoke needs) is
 * dropped now, and the revoke is retried from `nextRevokeAt`; the shred completes when it succeeds or is
 * given up.
 */
export async function deferShred(
  em: Em,
  d: { connectionId: string; now: number; nextRevokeAt: number },
): Promise<number> {
  const [row] = await query<{ revoke_attempts: number }>(
    em,
    `update credential set status = 'disconnected', access_token_sealed = null,
      last_good_refresh_token_sealed = null, next_refresh_at = null,
      revoke_pending_since = coalesce(revoke_pending_since, $2), revoke_attempts = revoke_attempts + 1,
      next_revoke_at = $3, updated_at = $2
     where connection_id = $1 returning revoke_attempts`,
    [d.connectionId, iso(d.now), iso(d.nextRevokeAt)],
  );
  return row?.revoke_attempts ?? 0;
}

/** Shreds whose revoke at Intuit is due for another try, oldest first. */
export async function revokesDue(em: Em, now: number, limit: number): Promise<string[]> {
  const rows = await query<{ connection_id: string }>(
    em,
    `select connection_id from credential where next_revoke_at <= $1 order by next_revoke_at limit $2`,
    [iso(now), limit],
  );
  return rows.map((r) => r.connection_id);
}

/**
 * Pushes a due row back with capped backoff after a refresh that threw; undefined when the row was not due
 * (or not refreshable) any more.
 */
export async function deferDue(
  em: Em,
  d: { connectionId: string; errorCode: string; now: number; firstDelayMs: number; maxDelayMs: number },
): Promise<number | undefined> {
  const [row] = await query<{ attempts: number }>(
    em,
    `update credential set attempts = attempts + 1, last_error_code = $2,
      next_refresh_at = $3::timestamptz
        + make_interval(secs => least($5::double precision, $4::double precision * 2 ^ least(attempts, 30)) / 1000),
      updated_at = $3
     where connection_id = $1 and status in ('active', 'degraded') and next_refresh_at <= $3
     returning attempts`,
    [d.connectionId, d.errorCode, iso(d.now), d.firstDelayMs, d.maxDelayMs],
  );
  return row?.attempts;
}

/** Due connections, oldest first. */
export async function dueConnections(em: Em, now: number, limit: number): Promise<string[]> {
  const rows = await query<{ connection_id: string }>(
    em,
    `select connection_id from credential where status in ('active', 'degraded') and next_refresh_at <= $1
     order by next_refresh_at limit $2`,
    [iso(now), limit],
  );
  return rows.map((r) => r.connection_id);
}
