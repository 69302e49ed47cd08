import { AppError, type MikroORM } from '@qbo/service-kit';
import type {
  AccessTokenResponse,
  CredentialStatus,
  RevokeResponse,
  StoreCredentialsRequest,
  StoreCredentialsResponse,
} from '@qbo/token-api';
import { heldTokenServes } from '../domain/before-refresh.js';
import { backoffMs, decide } from '../domain/refresh-health.js';
import { FIVE_YEARS_MS, nextRefreshAt } from '../domain/schedule.js';
import type { RevokeOutcome } from '../intuit/token-endpoint.js';
import { createTokenMetrics, type TokenMetrics } from '../metrics.js';
import type { CredentialRow, Em } from '../store/credentials.js';
import * as store from '../store/credentials.js';
import { iso, ms } from '../store/time.js';
import { conflict, disconnected, errorLabel, lockTimeout, notFound, reauthorize } from './errors.js';
import { healthEvents } from './health-events.js';
import { createOpenCredential, sameSecret, tokenFacts, tokenOf } from './open-credential.js';
import {
  createRefreshFlight,
  type FlightMode,
  type FlightResult,
  type RefreshFlightOptions,
} from './refresh-flight.js';
import { createSingleFlight } from './single-flight.js';

export interface TokenManagerOptions
  extends Omit<RefreshFlightOptions, 'fork' | 'metrics' | 'open' | 'schedule'> {
  orm: MikroORM;
  marginMs: number;
  activeWindowMs: number;
  keepAliveMs: number;
  metrics?: TokenMetrics;
  /** Retries of a shred's failed revoke at Intuit: capped doubling backoff, then give up and report. */
  shredRevoke: { initialMs: number; maxMs: number; maxAttempts: number };
}

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

/**
 * The vault and the refresh protocol. Each refresh is one locked transaction (`createRefreshFlight`).
 * Concurrent callers in one process share one flight; callers in other replicas wait on the row lock and then
 * find the fresh token instead of refreshing again.
 */
export function createTokenManager(o: TokenManagerOptions) {
  const metrics = o.metrics ?? createTokenMetrics();
  const fork = () => o.orm.em.fork() as Em;
  const open = createOpenCredential({ vault: o.vault, fork, log: o.log });
  const schedule = (
    now: number,
    accessExpiresAt: number,
    refreshExpiresAt: number,
    lastUsedAt: number | null,
  ) =>
    nextRefreshAt({
      now,
      accessExpiresAt,
      refreshExpiresAt,
      lastUsedAt,
      marginMs: o.marginMs,
      activeWindowMs: o.activeWindowMs,
      keepAliveMs: o.keepAliveMs,
      random: o.random,
    });
  const refreshLocked = createRefreshFlight({ ...o, fork, metrics, open, schedule });
  const single = createSingleFlight<string, FlightResult>();
  const flight = (connectionId: string, mode: FlightMode) =>
    single(connectionId, () => refreshLocked(connectionId, mode));

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

  let resealDone = false;

  function usable(row: CredentialRow) {
    if (row.status === 'disconnected') throw disconnected();
    if (row.status === 'deactivated') throw reauthorize();
  }

  async function requestFlight(connectionId: string, mode: FlightMode): Promise<AccessTokenResponse> {
    let result = await flight(connectionId, mode).catch(lockTimeout);
    // A scheduler flight that found nothing due answers no caller; run the caller's own.
    if (result.kind === 'skipped') result = await flight(connectionId, mode).catch(lockTimeout);
    // A flight started for another reason may have found the very token this caller saw rejected still valid.
    if (
      mode.kind === 'rejected' &&
      result.kind === 'token' &&
      sameSecret(result.token.accessToken, mode.rejected)
    )
      result = await flight(connectionId, mode).catch(lockTimeout);
    if (result.kind === 'token') return result.token;
    if (result.kind === 'failed') throw result.error;
    throw new AppError('refresh_unavailable', 'Refresh did not run; try again', {
      status: 503,
      retryable: true,
    });
  }

  async function readRow(connectionId: string): Promise<CredentialRow> {
    const row = await store.readCredential(fork(), connectionId);
    if (!row) throw notFound();
    return row;
  }

  /** Notes use, so the scheduler refreshes this connection ahead of expiry rather than on keep-alive. */
  function noteUse(row: CredentialRow, now: number) {
    const last = ms(row.last_used_at);
    if (last !== null && now - last < Math.min(5 * 60_000, o.activeWindowMs / 2)) return;
    const ahead = schedule(
      now,
      ms(row.access_token_expires_at) ?? now,
      ms(row.refresh_token_expires_at) ?? now,
      now,
    );
    void store
      .noteUse(fork(), row.connection_id, now, ahead)
      .catch((err: unknown) => o.log.warn({ err, connectionId: row.connection_id }, 'recording use failed'));
  }

  return {
    async store(connectionId: string, req: StoreCredentialsRequest): Promise<StoreCredentialsResponse> {
      const now = o.now();
      return fork().transactional(async (em: Em) => {
        const row = await store.readCredential(em, connectionId, 'wait');
        if (row && (row.org_id !== req.orgId || row.realm_id !== req.realmId)) throw conflict();
        if (row?.status === 'disconnected') throw disconnected();
        let dek: Buffer;
        let version = 1;
        if (row) {
          const opened = open(row);
          if (opened.refresh && sameSecret(opened.refresh, req.refreshToken))
            return { connectionId, credentialVersion: row.credential_version, changed: false };
          dek = opened.dek;
          version = row.credential_version + 1;
        } else {
          const key = o.vault.newDataKey(connectionId);
          dek = key.dek;
          await store.insertCredential(em, { connectionId, ...req }, key.sealedKey, now);
        }
        const accessExpiresAt = Date.parse(req.accessTokenExpiresAt);
        const hardExpiresAt = now + FIVE_YEARS_MS;
        const refreshExpiresAt = Math.min(Date.parse(req.refreshTokenExpiresAt), hardExpiresAt);
        await store.writeGrant(em, {
          connectionId,
          environment: req.environment,
          scopes: req.scopes,
          version,
          accessSealed: o.vault.sealToken(dek, connectionId, 'access_token', version, req.accessToken),
          refreshSealed: o.vault.sealToken(dek, connectionId, 'refresh_token', version, req.refreshToken),
          accessExpiresAt,
          refreshExpiresAt,
          hardExpiresAt,
          // A fresh grant is about to be used (the first sync), so it counts as in use.
          nextRefreshAt: schedule(now, accessExpiresAt, refreshExpiresAt, now),
          now,
        });
        return { connectionId, credentialVersion: version, changed: true };
      });
    },

    async getAccessToken(connectionId: string, minValidityMs: number): Promise<AccessTokenResponse> {
      const row = await readRow(connectionId);
      usable(row);
      const now = o.now();
      noteUse(row, now);
      const opened = open(row);
      const mode = { kind: 'ensure', minValidityMs } as const;
      const facts = tokenFacts(row, opened);
      if (heldTokenServes(mode, facts, now)) return tokenOf(row, opened.access ?? '', facts.accessExpiresAt);
      return requestFlight(connectionId, mode);
    },

    async refreshAfterRejection(connectionId: string, rejected: string): Promise<AccessTokenResponse> {
      const row = await readRow(connectionId);
      usable(row);
      const opened = open(row);
      const facts = tokenFacts(row, opened, rejected);
      if (heldTokenServes({ kind: 'rejected' }, facts, o.now()))
        return tokenOf(row, opened.access ?? '', facts.accessExpiresAt);
      return requestFlight(connectionId, { kind: 'rejected', rejected });
    },

    async status(connectionId: string): Promise<CredentialStatus> {
      const row = await readRow(connectionId);
      return {
        connectionId,
        orgId: row.org_id,
        realmId: row.realm_id,
        status: row.status,
        credentialVersion: row.credential_version,
        accessTokenExpiresAt: iso(ms(row.access_token_expires_at)),
        refreshTokenExpiresAt: iso(ms(row.refresh_token_expires_at)),
        lastRefreshedAt: iso(ms(row.last_refreshed_at)),
        nextRefreshAt: iso(ms(row.next_refresh_at)),
        degradedSince: iso(ms(row.degraded_since)),
        deactivationReason: row.deactivation_reason,
      };
    },

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

    /**
     * Re-seals data keys still sealed by an older key of the ring, a batch at a time, so that key can be
     * retired: a retired key is what makes a shred final for copies of a data key kept elsewhere (backups),
     * which the deleted row alone cannot reach. How many were re-sealed.
     */
    async resealRetired(limit: number): Promise<number> {
      // The ring changes only with a restart: once nothing is left to re-seal, stop looking.
      if (resealDone) return 0;
      const em = fork();
      const rows = await store.dataKeysToReseal(em, o.vault.activeKid(), o.vault.kids(), limit);
      if (rows.length === 0) resealDone = true;
      for (const r of rows) {
        const { resealed } = o.vault.openDataKey(r.connection_id, r.sealed_key);
        if (resealed) await store.resealDataKey(em, r.connection_id, resealed, r.sealed_key);
      }
      if (rows.length > 0)
        o.log.info({ resealed: rows.length, kid: o.vault.activeKid() }, 'data keys re-sealed');
      return rows.length;
    },

    /**
     * While the app is paused, one refresh (the connection due longest) asks Intuit whether the credentials
     * work again, once per probe interval across replicas; its success lifts the pause.
     */
    async probeApp(): Promise<'not_paused' | 'not_due' | FlightResult['kind']> {
      const em = fork();
      const now = o.now();
      if (!(await store.isAppPaused(em, o.clientFingerprint))) return 'not_paused';
      if (!(await store.claimProbe(em, o.clientFingerprint, now, now + o.probeIntervalMs))) return 'not_due';
      const candidate = await store.probeCandidate(em);
      if (!candidate) return 'skipped';
      return (await flight(candidate, { kind: 'probe' })).kind;
    },

    /** The scheduler's refresh of one due connection; another replica holding the row makes it a no-op. */
    async refreshDue(connectionId: string): Promise<FlightResult['kind']> {
      return (await flight(connectionId, { kind: 'scheduled' })).kind;
    },

    /**
     * A scheduled refresh threw instead of answering (a data key no key in the ring opens, a broken row): its
     * transaction rolled back, so the row is pushed back with capped backoff here, in a statement of its own,
     * or it would stay the oldest due row and be fetched again every pass ahead of healthy ones.
     */
    async deferAfterError(connectionId: string, err: unknown): Promise<boolean> {
      const code = errorLabel(err);
      metrics.scheduledRefreshError(code);
      const attempts = await store.deferDue(fork(), {
        connectionId,
        errorCode: code,
        now: o.now(),
        firstDelayMs: backoffMs(1, o.backoff, o.random),
        maxDelayMs: o.backoff.maxMs,
      });
      o.log.error(
        { connectionId, errorCode: code, attempts: attempts ?? null },
        'scheduled refresh failed unexpectedly; deferred',
      );
      return attempts !== undefined;
    },

    /** Due connections, oldest first; none while the app's credentials are paused. */
    async due(limit: number): Promise<string[]> {
      const em = fork();
      if (await store.isAppPaused(em, o.clientFingerprint)) return [];
      return store.dueConnections(em, o.now(), limit);
    },
  };
}

export type TokenManager = ReturnType<typeof createTokenManager>;
