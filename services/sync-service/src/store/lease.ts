import { AppError, execute, query } from '@qbo/service-kit';
import type { Em } from './sql.js';

/** A holder's claim on one org: every write of that org checks it in its own transaction. */
export interface Lease {
  orgId: string;
  holder: string;
  fencingToken: string;
}

export class FencedError extends AppError {
  constructor(readonly orgId: string) {
    super('lease_lost', 'this replica no longer holds the sync lease of the org; its write was refused', {
      retryable: true,
    });
    this.name = 'FencedError';
  }
}

// Lease times use clock_timestamp(), not now(): now() is the start of the transaction, and a long page
// write would otherwise extend the lease from a moment already past, or find it live when it has expired.

/**
 * Takes the org's lease when it is free or expired, raising the fencing token; undefined when another holder's
 * lease is still live. Postgres's clock decides expiry, so replicas' clocks never disagree about it.
 */
export async function acquireLease(
  em: Em,
  orgId: string,
  holder: string,
  ttlMs: number,
): Promise<Lease | undefined> {
  const rows = await query<{ fencing_token: string }>(
    em,
    `insert into qbo_sync_sessions (org_id, holder, fencing_token, expires_at, heartbeat_at)
     values ($1, $2, 1, clock_timestamp() + make_interval(secs => $3), clock_timestamp())
     on conflict (org_id) do update set holder = excluded.holder,
       fencing_token = qbo_sync_sessions.fencing_token + 1,
       expires_at = excluded.expires_at, heartbeat_at = clock_timestamp()
     where qbo_sync_sessions.expires_at <= clock_timestamp()
     returning fencing_token::text`,
    [orgId, holder, ttlMs / 1000],
  );
  const token = rows[0]?.fencing_token;
  return token === undefined ? undefined : { orgId, holder, fencingToken: token };
}

/**
 * Checks, inside the writer's transaction, that the lease is still this holder's and live, and extends it.
 * The row stays locked until that transaction ends, so a takeover waits for the write in flight and then
 * fences every later one. Throws FencedError otherwise: the caller's transaction rolls back whole.
 */
export async function fence(em: Em, lease: Lease, ttlMs: number): Promise<void> {
  if (!(await renewLease(em, lease, ttlMs))) throw new FencedError(lease.orgId);
}

/** Extends the lease when it is still this holder's and live; false when it is not. */
export async function renewLease(em: Em, lease: Lease, ttlMs: number): Promise<boolean> {
  const n = await execute(
    em,
    `update qbo_sync_sessions set expires_at = clock_timestamp() + make_interval(secs => $4), heartbeat_at = clock_timestamp()
     where org_id = $1 and holder = $2 and fencing_token = $3::bigint and expires_at > clock_timestamp()`,
    [lease.orgId, lease.holder, lease.fencingToken, ttlMs / 1000],
  );
  return n === 1;
}

/** Ends the lease now, keeping the row so the fencing token keeps growing. */
export async function releaseLease(em: Em, lease: Lease): Promise<void> {
  await execute(
    em,
    `update qbo_sync_sessions set expires_at = clock_timestamp()
     where org_id = $1 and holder = $2 and fencing_token = $3::bigint`,
    [lease.orgId, lease.holder, lease.fencingToken],
  );
}
