/**
 * What a refresh attempt's outcome means for a connection's health, decided without I/O. The rules: a
 * transient failure (Intuit down, throttled, slow, unreachable) never deactivates a connection however long
 * it lasts; it degrades it once and is retried with capped, jittered backoff, and the first success after
 * it recovers it once. A rejected grant (`invalid_grant` after the last-known-good fallback was tried, a
 * revoked or expired refresh token) deactivates it once, with no further attempts. A rejected app
 * (`invalid_client`) is the app's problem, not the customer's: nothing is deactivated, and the caller pauses
 * refreshing for the whole app.
 */
export type Outcome =
  | { ok: true }
  | {
      ok: false;
      kind: 'transient';
      cause: 'intuit_unavailable' | 'rate_limited' | 'timeout' | 'network';
      code?: string;
    }
  | {
      ok: false;
      kind: 'grant_rejected';
      reason: 'invalid_grant' | 'refresh_token_expired' | 'revoked';
      code?: string;
    }
  | {
      ok: false;
      kind: 'app_rejected';
      code: 'invalid_client' | 'unauthorized_client' | 'invalid_configuration';
    };

export type Health =
  | { status: 'healthy' }
  | { status: 'degraded'; since: number; attempts: number }
  | { status: 'deactivated'; at: number; reason: 'invalid_grant' | 'refresh_token_expired' | 'revoked' };

/** Facts for events; the service turns them into catalog events with its connection and realm ids. */
export type HealthChange =
  | {
      type: 'ConnectionDegraded';
      cause: string;
      attempts: number;
      lastErrorCode?: string;
      degradedSince: number;
      nextAttemptAt: number;
    }
  | { type: 'ConnectionRecovered'; degradedSince: number; attempts: number; recoveredAt: number }
  | {
      type: 'ConnectionDeactivated';
      reason: string;
      attempts: number;
      lastErrorCode?: string;
      deactivatedAt: number;
    }
  | { type: 'ReauthorizationRequired'; reason: string; requiredSince: number }
  | { type: 'AppCredentialsRejected'; errorCode: string; detectedAt: number };

export interface Decision {
  health: Health;
  changes: HealthChange[];
  /** When to try again; absent when no attempt should follow (healthy: the normal schedule decides). */
  retryAt?: number;
  /** Stop refreshing for every connection of the app until an operator fixes its credentials. */
  pauseApp?: boolean;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: the share of each delay that is random, so a fleet of failing connections does not retry in step. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 30_000, maxMs: 15 * 60_000, jitter: 0.5 };

export function backoffMs(
  attempt: number,
  { initialMs, maxMs, jitter }: BackoffPolicy,
  random: () => number,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

export function decide(
  health: Health,
  outcome: Outcome,
  now: number,
  { backoff = defaultBackoff, random = Math.random }: { backoff?: BackoffPolicy; random?: () => number } = {},
): Decision {
  // A dead grant stays dead until the org reconnects (a new connection credential resets health).
  if (health.status === 'deactivated') return { health, changes: [] };

  if (outcome.ok) {
    if (health.status === 'degraded') {
      return {
        health: { status: 'healthy' },
        changes: [
          {
            type: 'ConnectionRecovered',
            degradedSince: health.since,
            attempts: health.attempts,
            recoveredAt: now,
          },
        ],
      };
    }
    return { health, changes: [] };
  }

  const attempts = health.status === 'degraded' ? health.attempts + 1 : 1;
  switch (outcome.kind) {
    case 'transient': {
      const since = health.status === 'degraded' ? health.since : now;
      const retryAt = now + backoffMs(attempts, backoff, random);
      const changes: HealthChange[] =
        health.status === 'degraded'
          ? []
          : [
              {
                type: 'ConnectionDegraded',
                cause: outcome.cause,
                attempts,
                ...(outcome.code ? { lastErrorCode: outcome.code } : {}),
                degradedSince: since,
                nextAttemptAt: retryAt,
              },
            ];
      return { health: { status: 'degraded', since, attempts }, changes, retryAt };
    }
    case 'grant_rejected':
      return {
        health: { status: 'deactivated', at: now, reason: outcome.reason },
        changes: [
          {
            type: 'ConnectionDeactivated',
            reason: outcome.reason,
            attempts,
            ...(outcome.code ? { lastErrorCode: outcome.code } : {}),
            deactivatedAt: now,
          },
          { type: 'ReauthorizationRequired', reason: outcome.reason, requiredSince: now },
        ],
      };
    case 'app_rejected':
      return {
        health,
        changes: [{ type: 'AppCredentialsRejected', errorCode: outcome.code, detectedAt: now }],
        pauseApp: true,
      };
  }
}
