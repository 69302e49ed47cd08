import { AppError, type MikroORM } from '@qbo/service-kit';
import type {
  AccessTokenResponse,
  CredentialStatus,
  StoreCredentialsRequest,
  StoreCredentialsResponse,
} from '@qbo/token-api';
import { heldTokenServes } from '../domain/before-refresh.js';
import { backoffMs } from '../domain/refresh-health.js';
import { FIVE_YEARS_MS, nextRefreshAt } from '../domain/schedule.js';
import { createTokenMetrics, type TokenMetrics } from '../metrics.js';
import type { CredentialRow, Em } from '../store/credentials.js';
import * as store from '../store/credentials.js';
import { iso, ms } from '../store/time.js';
import { conflict, disconnected, errorLabel, lockTimeout, notFound, reauthorize } from './errors.js';
import { createOpenCredential, sameSecret, tokenFacts, tokenOf } from './open-credential.js';
import {
  createRefreshFlight,
  type FlightMode,
  type FlightResult,
  type RefreshFlightOptions,
} from './refresh-flight.js';
import { createRevocation, type RevocationOptions } from './revocation.js';
import { createSingleFlight } from './single-flight.js';

export interface TokenManagerOptions
  extends Omit<RefreshFlightOptions, 'fork' | 'metrics' | 'open' | 'schedule'> {
  orm: MikroORM;
  marginMs: number;
  activeWindowMs: number;
  keepAliveMs: number;
  metrics?: TokenMetrics;
  shredRevoke: RevocationOptions['shredRevoke'];
}

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

  const revocation = createRevocation({ ...o, fork, open, readRow, metrics });

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

    ...revocation,

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
