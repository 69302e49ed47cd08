import type { RevokeResponse } from '@qbo/token-api';
import { decide } from '../domain/refresh-health.js';
import type { RevokeOutcome } from '../intuit/token-endpoint.js';
import type { CredentialRow, Em } from '../store/credentials.js';
import * as store from '../store/credentials.js';
import { ms } from '../store/time.js';
import { disconnected } from './errors.js';
import { healthEvents } from './health-events.js';
import type { RefreshFlightOptions } from './refresh-flight.js';

/** What a `ConnectionDisconnected` claims, to be checked against the stored connection before it shreds. */
export interface DisconnectClaim {
  connectionId: string;
  orgId: string;
  /** The realm in the envelope (optional there) and in the data: both must be the stored one. */
  realmIds: readonly (string | undefined)[];
  revokedAtIntuit: boolean;
  eventId: string;
}

export type ShredResult = 'shredded' | 'revoke_pending' | 'ignored' | 'refused';

export interface RevocationOptions
  extends Pick<
    RefreshFlightOptions,
    'fork' | 'open' | 'intuit' | 'outbox' | 'events' | 'log' | 'metrics' | 'now'
  > {
  /** The connection's row; throws `connection_not_found` when there is none. */
  readRow: (connectionId: string) => Promise<CredentialRow>;
  /** Retries of a shred's failed revoke at Intuit: capped doubling backoff, then give up and report. */
  shredRevoke: { initialMs: number; maxMs: number; maxAttempts: number };
}

/**
 * The end of a grant: a revoke at Intuit asked for through the API, and the crypto-shred a disconnect makes,
 * with the revoke retries a failed one leaves behind.
 */
export function createRevocation(o: RevocationOptions) {
  const { fork, open, readRow, metrics } = o;

  /** Keeps a shred's refresh token for another revoke attempt, with capped doubling backoff. */
  const deferShred = async (em: Em, row: CredentialRow, attempts: number): Promise<ShredResult> => {
    const now = o.now();
    const delay = Math.min(o.shredRevoke.maxMs, o.shredRevoke.initialMs * 2 ** attempts);
    await store.deferShred(em, { connectionId: row.connection_id, now, nextRevokeAt: now + delay });
    metrics.shredRevoke('deferred');
    o.log.warn(
      { connectionId: row.connection_id, attempts: attempts + 1, retryInMs: delay },
      'revoke at Intuit failed; shred deferred until it succeeds',
    );
    return 'revoke_pending';
  };

  /** Revokes at Intuit, counting every outcome and logging a failure by status or cause only. */
  const revokeAtIntuit = async (connectionId: string, token: string): Promise<boolean> => {
    const outcome: RevokeOutcome = await o.intuit.revoke(token);
    const label = outcome.ok ? 'ok' : outcome.cause === 'status' ? String(outcome.status) : outcome.cause;
    metrics.intuitRevoke(label);
    if (!outcome.ok) o.log.warn({ connectionId, outcome: label }, 'revoke at Intuit failed');
    return outcome.ok;
  };

  return {
    async revoke(connectionId: string): Promise<RevokeResponse> {
      const row = await readRow(connectionId);
      // Revoked here before and not shredded yet: a retried request gets the same answer.
      if (row.status === 'disconnected' && row.sealed_key && !row.revoke_pending_since)
        return { connectionId, revokedAtIntuit: true };
      if (row.status === 'disconnected') throw disconnected();
      const opened = row.sealed_key ? open(row) : undefined;
      const token = opened?.refresh ?? opened?.access;
      const revokedAtIntuit = token ? await revokeAtIntuit(connectionId, token) : false;
      // The grant is dead at Intuit: answer 410 from now on instead of serving a revoked token, and stop
      // scheduling so no refresh turns it into a deactivation. The data key stays until ConnectionDisconnected
      // shreds it. The revocation is announced as any revoked grant is (ConnectionDeactivated and
      // ReauthorizationRequired, reason `revoked`), in the same commit: a revoke nobody follows with a
      // disconnect still reaches the org and the status view.
      if (revokedAtIntuit) {
        await fork().transactional(async (em: Em) => {
          const locked = await store.readCredential(em, connectionId, 'wait');
          if (!locked || locked.status === 'disconnected') return;
          const now = o.now();
          await store.markRevoked(em, connectionId, now);
          const health =
            locked.status === 'degraded'
              ? {
                  status: 'degraded' as const,
                  since: ms(locked.degraded_since) ?? now,
                  attempts: Math.max(1, locked.attempts),
                }
              : { status: 'healthy' as const };
          const { changes } = decide(
            health,
            { ok: false, kind: 'grant_rejected', reason: 'revoked', code: 'revoked_on_request' },
            now,
          );
          await o.outbox.add(
            em,
            healthEvents(
              o.events,
              { connectionId, orgId: locked.org_id, realmId: locked.realm_id },
              changes,
              false,
            ),
          );
        });
        o.log.info({ connectionId }, 'grant revoked at Intuit on request');
      }
      return { connectionId, revokedAtIntuit };
    },

    /**
     * The org disconnected: revoke at Intuit if that has not happened and still can, then crypto-shred
     * (delete the data key, drop the sealed values) and stop scheduling. Runs in the caller's transaction
     * (the inbox's), so a redelivered event does nothing. An event that disagrees with the stored connection
     * (another org, another realm: forged or misrouted) shreds nothing and is reported. A revoke that fails
     * keeps the refresh token (only) for `retryRevokes`, so the grant is not left live at Intuit unnoticed.
     */
    async shred(em: Em, claim: DisconnectClaim): Promise<ShredResult> {
      const { connectionId } = claim;
      const row = await store.readCredential(em, connectionId, 'wait');
      // A revoked connection is 'disconnected' already but keeps its data key until this shred.
      if (!row || (row.status === 'disconnected' && !row.sealed_key)) return 'ignored';
      const reason =
        row.org_id !== claim.orgId
          ? 'org'
          : claim.realmIds.some((r) => r !== undefined && r !== row.realm_id)
            ? 'realm'
            : undefined;
      if (reason) {
        metrics.eventRefused('ConnectionDisconnected', reason);
        // Ids only: which event, which connection, what it claimed that does not match.
        o.log.warn(
          {
            connectionId,
            eventId: claim.eventId,
            mismatch: reason,
            claimedOrgId: claim.orgId,
            claimedRealmIds: claim.realmIds.filter((r) => r !== undefined),
          },
          'disconnect does not match the stored connection; nothing shredded',
        );
        return 'refused';
      }
      if (row.revoke_pending_since) return 'revoke_pending';
      if (!claim.revokedAtIntuit && row.status !== 'disconnected' && row.sealed_key) {
        const opened = open(row);
        const token = opened.refresh ?? opened.access;
        if (token && !(await revokeAtIntuit(connectionId, token))) {
          if (opened.refresh) return deferShred(em, row, 0);
          metrics.shredRevoke('given_up');
          o.log.error({ connectionId }, 'revoke at Intuit failed and no refresh token is held; shredded');
        }
      }
      await store.shredCredential(em, connectionId, o.now());
      return 'shredded';
    },

    /** Retries the revokes of deferred shreds that are due; how many completed their shred. */
    async retryRevokes(limit: number): Promise<number> {
      let done = 0;
      for (const connectionId of await store.revokesDue(fork(), o.now(), limit)) {
        const finished = await fork().transactional(async (em: Em) => {
          const row = await store.readCredential(em, connectionId, 'skip');
          if (!row?.next_revoke_at || (ms(row.next_revoke_at) ?? 0) > o.now()) return false;
          const token = row.sealed_key ? open(row).refresh : null;
          if (token && !(await revokeAtIntuit(connectionId, token))) {
            if (row.revoke_attempts < o.shredRevoke.maxAttempts) {
              await deferShred(em, row, row.revoke_attempts);
              return false;
            }
            metrics.shredRevoke('given_up');
            o.log.error(
              { connectionId, attempts: row.revoke_attempts + 1 },
              'revoke at Intuit kept failing; shredded anyway: the grant may still be live at Intuit',
            );
          } else if (token) {
            metrics.shredRevoke('revoked');
            o.log.info({ connectionId, attempts: row.revoke_attempts + 1 }, 'deferred revoke succeeded');
          }
          await store.shredCredential(em, connectionId, o.now());
          o.log.info({ connectionId }, 'credentials shredded');
          return true;
        });
        if (finished) done++;
      }
      return done;
    },
  };
}

export type Revocation = ReturnType<typeof createRevocation>;
