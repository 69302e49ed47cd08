import { timingSafeEqual } from 'node:crypto';
import type { createTracedEventFactory, Outbox } from '@qbo/event-bus';
import {
  AppCredentialsRejected,
  type CatalogEvent,
  ConnectionDeactivated,
  ConnectionDegraded,
  ConnectionRecovered,
  ReauthorizationRequired,
  ReconnectSoon,
  TokenRotated,
} from '@qbo/events';
import { AppError, type Logger, type MikroORM } from '@qbo/service-kit';
import type {
  AccessTokenResponse,
  CredentialStatus,
  RevokeResponse,
  StoreCredentialsRequest,
  StoreCredentialsResponse,
} from '@qbo/token-api';
import type { CrashPoint } from '../config.js';
import {
  type BackoffPolicy,
  backoffMs,
  decide,
  type Health,
  type HealthChange,
} from '../domain/refresh-health.js';
import { daysLeft, FIVE_YEARS_MS, nextRefreshAt } from '../domain/schedule.js';
import type { TokenAnswer } from '../domain/token-response.js';
import type { RevokeOutcome, TokenEndpoint } from '../intuit/token-endpoint.js';
import { createTokenMetrics, type TokenMetrics } from '../metrics.js';
import { type Em, execute, iso, ms, query } from '../store/sql.js';
import type { Vault } from '../vault/vault.js';

type EventFactory = ReturnType<typeof createTracedEventFactory>;

export interface TokenManagerOptions {
  orm: MikroORM;
  vault: Vault;
  intuit: TokenEndpoint;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
  now: () => number;
  random: () => number;
  /** Identifies the app credentials in use, so a pause applies to exactly those. */
  clientFingerprint: string;
  marginMs: number;
  activeWindowMs: number;
  keepAliveMs: number;
  reconnectLeadMs: number;
  backoff: BackoffPolicy;
  /** Bounds the wait for another replica's refresh of the same row. */
  lockTimeoutMs: number;
  crash: (point: CrashPoint) => void;
  metrics?: TokenMetrics;
}

interface Row {
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
  sealed_key: string | null;
}

interface Opened {
  dek: Buffer;
  access: string | null;
  refresh: string | null;
  lastGood: string | null;
}

/** Another replica held the row past the lock timeout (a slow Intuit): the caller retries shortly. */
const lockTimeout = (err: unknown): never => {
  if ((err as { code?: unknown }).code === '55P03') {
    throw new RetryLaterError(
      'refresh_unavailable',
      'A refresh of this connection is in progress elsewhere',
      1,
    );
  }
  throw err;
};

/**
 * An error's code (or class name) for logs and metrics: never its message, which may quote a value. Only a
 * short identifier-like code is kept, so nothing unbounded becomes a metric label.
 */
export function errorLabel(err: unknown): string {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  const ok = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v);
  if (ok(code)) return code;
  if (ok(name)) return name;
  return 'unknown';
}

/** An error that tells the caller when to come back (`Retry-After`). */
export class RetryLaterError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message, { status: 503, retryable: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

const notFound = () =>
  new AppError('connection_not_found', 'No credentials for this connection', { status: 404 });
const disconnected = () =>
  new AppError('connection_disconnected', 'The connection was revoked or disconnected; no token is served', {
    status: 410,
  });
const reauthorize = () =>
  new AppError('reauthorization_required', 'The grant is no longer valid; the org must reconnect', {
    status: 409,
  });
const appPaused = () =>
  new RetryLaterError(
    'app_credentials_rejected',
    'Intuit rejected the app credentials; refreshing is paused until an operator fixes them',
    300,
  );

type Mode =
  | { kind: 'ensure'; minValidityMs: number }
  | { kind: 'rejected'; rejected: string }
  | { kind: 'scheduled' };

type FlightResult =
  | { kind: 'token'; token: AccessTokenResponse }
  | { kind: 'skipped' }
  | { kind: 'failed'; error: AppError };

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const SELECT = `select c.*, d.sealed_key from credential c left join data_key d using (connection_id)
  where c.connection_id = $1`;

/**
 * The vault and the refresh protocol. Every refresh runs in one database transaction holding the
 * credential row's lock (`FOR UPDATE`): re-check whether it is still needed, call Intuit, then write the new
 * tokens and their events (outbox) in the same commit. A token is returned to a caller only after that
 * commit, so a refresh token Intuit issued is never used or reported before it is durable. Concurrent
 * callers in one process share one flight; callers in other replicas wait on the row lock and then find the
 * fresh token instead of refreshing again.
 */
export function createTokenManager(o: TokenManagerOptions) {
  const inflight = new Map<string, Promise<FlightResult>>();
  const metrics = o.metrics ?? createTokenMetrics();
  const callIntuit = async (refreshToken: string) => {
    const started = performance.now();
    const answer = await o.intuit.refresh(refreshToken);
    metrics.intuitCall(answer.ok ? 'ok' : answer.outcome.kind, performance.now() - started);
    return answer;
  };
  const fork = () => o.orm.em.fork() as unknown as Em;
  /** Revokes at Intuit, counting every outcome and logging a failure by status or cause only. */
  const revokeAtIntuit = async (connectionId: string, token: string): Promise<boolean> => {
    const outcome: RevokeOutcome = await o.intuit.revoke(token);
    const label = outcome.ok ? 'ok' : outcome.cause === 'status' ? String(outcome.status) : outcome.cause;
    metrics.intuitRevoke(label);
    if (!outcome.ok) o.log.warn({ connectionId, outcome: label }, 'revoke at Intuit failed');
    return outcome.ok;
  };

  function openRow(row: Row): Opened {
    if (!row.sealed_key) throw disconnected();
    const { dek, resealed } = o.vault.openDataKey(row.connection_id, row.sealed_key);
    if (resealed) {
      // Lazy re-encryption after a key-ring rotation, off the caller's path; the compare keeps a racing
      // shred or another replica's re-seal intact.
      void execute(
        fork(),
        'update data_key set sealed_key = $2 where connection_id = $1 and sealed_key = $3',
        [row.connection_id, resealed, row.sealed_key],
      ).catch((err: unknown) => o.log.warn({ err, connectionId: row.connection_id }, 're-seal failed'));
    }
    const v = row.credential_version;
    const id = row.connection_id;
    return {
      dek,
      access:
        row.access_token_sealed && o.vault.openToken(dek, id, 'access_token', v, row.access_token_sealed),
      refresh:
        row.refresh_token_sealed && o.vault.openToken(dek, id, 'refresh_token', v, row.refresh_token_sealed),
      lastGood:
        row.last_good_refresh_token_sealed &&
        o.vault.openToken(dek, id, 'last_good_refresh_token', v, row.last_good_refresh_token_sealed),
    };
  }

  const tokenOf = (row: Row, access: string, expiresAt: number, version = row.credential_version) => ({
    connectionId: row.connection_id,
    realmId: row.realm_id,
    accessToken: access,
    accessTokenExpiresAt: new Date(expiresAt).toISOString(),
    credentialVersion: version,
  });

  function usable(row: Row) {
    if (row.status === 'disconnected') throw disconnected();
    if (row.status === 'deactivated') throw reauthorize();
  }

  async function paused(em: Em): Promise<boolean> {
    const rows = await query(em, 'select 1 from app_pause where client_fingerprint = $1', [
      o.clientFingerprint,
    ]);
    return rows.length > 0;
  }

  const healthOf = (row: Row): Health =>
    row.status === 'degraded'
      ? { status: 'degraded', since: ms(row.degraded_since) ?? o.now(), attempts: Math.max(1, row.attempts) }
      : { status: 'healthy' };

  function changeEvents(row: Row, changes: HealthChange[], fallbackTried: boolean): CatalogEvent[] {
    const base = { orgId: row.org_id, realmId: row.realm_id };
    const ids = { connectionId: row.connection_id, realmId: row.realm_id };
    const at = (t: number) => new Date(t).toISOString();
    return changes.map((c): CatalogEvent => {
      switch (c.type) {
        case 'ConnectionDegraded':
          return o.events(ConnectionDegraded, {
            ...base,
            data: {
              ...ids,
              cause: c.cause as 'intuit_unavailable',
              attempts: c.attempts,
              ...(c.lastErrorCode ? { lastErrorCode: c.lastErrorCode } : {}),
              degradedSince: at(c.degradedSince),
              nextAttemptAt: at(c.nextAttemptAt),
            },
          });
        case 'ConnectionRecovered':
          return o.events(ConnectionRecovered, {
            ...base,
            data: {
              ...ids,
              degradedSince: at(c.degradedSince),
              attempts: c.attempts,
              recoveredAt: at(c.recoveredAt),
            },
          });
        case 'ConnectionDeactivated':
          return o.events(ConnectionDeactivated, {
            ...base,
            data: {
              ...ids,
              reason: c.reason as 'invalid_grant',
              attempts: c.attempts + (fallbackTried ? 1 : 0),
              ...(c.lastErrorCode ? { lastErrorCode: c.lastErrorCode } : {}),
              deactivatedAt: at(c.deactivatedAt),
            },
          });
        case 'ReauthorizationRequired':
          return o.events(ReauthorizationRequired, {
            ...base,
            data: { ...ids, reason: c.reason as 'invalid_grant', requiredSince: at(c.requiredSince) },
          });
        case 'AppCredentialsRejected':
          return o.events(AppCredentialsRejected, {
            ...base,
            data: {
              connectionId: row.connection_id,
              errorCode: c.errorCode as 'invalid_client',
              schedulerPaused: true,
              detectedAt: at(c.detectedAt),
            },
          });
      }
      throw new Error('unreachable');
    });
  }

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

  /** Writes a successful refresh and its events; the caller's transaction commits them together. */
  async function writeRefreshed(
    em: Em,
    row: Row,
    opened: Opened,
    used: string,
    answer: Extract<TokenAnswer, { ok: true }>,
    now: number,
  ): Promise<AccessTokenResponse> {
    const version = row.credential_version + 1;
    const id = row.connection_id;
    const rotated = opened.refresh === null || !sameSecret(answer.refreshToken, opened.refresh);
    // The value that last worked stays as the fallback: Intuit may refuse a just-issued token before it
    // has propagated, and the previous one may still be honoured.
    const lastGood = !sameSecret(answer.refreshToken, used) ? used : opened.lastGood;
    const accessExpiresAt = now + answer.expiresInSeconds * 1000;
    const hardExpiresAt =
      answer.hardExpiresInSeconds !== undefined
        ? now + answer.hardExpiresInSeconds * 1000
        : (ms(row.refresh_token_hard_expires_at) ?? (ms(row.grant_created_at) ?? now) + FIVE_YEARS_MS);
    const refreshExpiresAt = Math.min(now + answer.refreshExpiresInSeconds * 1000, hardExpiresAt);
    const next = schedule(now, accessExpiresAt, refreshExpiresAt, ms(row.last_used_at));
    const reconnectSoon =
      row.reconnect_soon_sent_at === null && hardExpiresAt - now <= o.reconnectLeadMs ? now : null;
    await execute(
      em,
      `update credential set credential_version = $2, access_token_sealed = $3, refresh_token_sealed = $4,
        last_good_refresh_token_sealed = $5, access_token_expires_at = $6, refresh_token_expires_at = $7,
        refresh_token_hard_expires_at = $8, last_refreshed_at = $9, next_refresh_at = $10, status = 'active',
        degraded_since = null, attempts = 0, last_error_code = null,
        reconnect_soon_sent_at = coalesce(reconnect_soon_sent_at, $11), updated_at = $9
       where connection_id = $1`,
      [
        id,
        version,
        o.vault.sealToken(opened.dek, id, 'access_token', version, answer.accessToken),
        o.vault.sealToken(opened.dek, id, 'refresh_token', version, answer.refreshToken),
        lastGood && o.vault.sealToken(opened.dek, id, 'last_good_refresh_token', version, lastGood),
        iso(accessExpiresAt),
        iso(refreshExpiresAt),
        iso(hardExpiresAt),
        iso(now),
        iso(next),
        iso(reconnectSoon),
      ],
    );
    const base = { orgId: row.org_id, realmId: row.realm_id };
    const events: CatalogEvent[] = [
      o.events(TokenRotated, {
        ...base,
        data: {
          connectionId: id,
          realmId: row.realm_id,
          credentialVersion: version,
          accessTokenExpiresAt: new Date(accessExpiresAt).toISOString(),
          refreshTokenExpiresAt: new Date(refreshExpiresAt).toISOString(),
          refreshTokenRotated: rotated,
          rotatedAt: new Date(now).toISOString(),
        },
      }),
      ...changeEvents(row, decide(healthOf(row), { ok: true }, now).changes, false),
    ];
    if (reconnectSoon !== null) {
      events.push(
        o.events(ReconnectSoon, {
          ...base,
          data: {
            connectionId: id,
            realmId: row.realm_id,
            refreshTokenExpiresAt: new Date(hardExpiresAt).toISOString(),
            daysLeft: daysLeft(now, hardExpiresAt),
          },
        }),
      );
    }
    await o.outbox.add(em, events);
    return tokenOf(row, answer.accessToken, accessExpiresAt, version);
  }

  /** Records a failed refresh (health, schedule, events) and says what the caller gets. */
  async function writeFailed(
    em: Em,
    row: Row,
    outcome: Extract<TokenAnswer, { ok: false }>['outcome'],
    fallbackTried: boolean,
    now: number,
  ): Promise<AppError> {
    const decision = decide(healthOf(row), outcome, now, { backoff: o.backoff, random: o.random });
    const events = changeEvents(row, decision.changes, fallbackTried);
    const id = row.connection_id;
    if (decision.pauseApp) {
      const inserted = await query(
        em,
        `insert into app_pause (client_fingerprint, error_code, paused_at) values ($1, $2, $3)
         on conflict (client_fingerprint) do nothing returning 1`,
        [o.clientFingerprint, outcome.kind === 'app_rejected' ? outcome.code : 'invalid_client', iso(now)],
      );
      // Concurrent flights of other connections hit the same rejection: only the one that paused reports it.
      if (inserted.length > 0) await o.outbox.add(em, events);
      return appPaused();
    }
    const health = decision.health;
    if (health.status === 'deactivated') {
      // The grant is dead: its tokens are worthless, so they are dropped rather than kept sealed.
      await execute(
        em,
        `update credential set status = 'deactivated', deactivation_reason = $2, attempts = $3,
          last_error_code = $4, next_refresh_at = null, access_token_sealed = null, refresh_token_sealed = null,
          last_good_refresh_token_sealed = null, updated_at = $5
         where connection_id = $1`,
        [id, health.reason, row.attempts + 1 + (fallbackTried ? 1 : 0), outcome.code ?? null, iso(now)],
      );
      await o.outbox.add(em, events);
      return reauthorize();
    }
    const retryAt = decision.retryAt ?? now + o.backoff.initialMs;
    await execute(
      em,
      `update credential set status = $2, degraded_since = $3, attempts = $4, last_error_code = $5,
        next_refresh_at = $6, updated_at = $7
       where connection_id = $1`,
      [
        id,
        health.status === 'degraded' ? 'degraded' : 'active',
        health.status === 'degraded' ? iso(health.since) : null,
        health.status === 'degraded' ? health.attempts : 0,
        outcome.code ?? null,
        iso(retryAt),
        iso(now),
      ],
    );
    await o.outbox.add(em, events);
    return new RetryLaterError(
      'refresh_unavailable',
      'Intuit is failing transiently; try again later',
      Math.max(1, Math.ceil((retryAt - now) / 1000)),
    );
  }

  async function refreshLocked(connectionId: string, mode: Mode): Promise<FlightResult> {
    let committed: AccessTokenResponse | undefined;
    const result = await fork().transactional(async (em: Em): Promise<FlightResult> => {
      await execute(em, `set local lock_timeout = ${Math.round(o.lockTimeoutMs)}`);
      const [row] = await query<Row>(
        em,
        `${SELECT} for update of c${mode.kind === 'scheduled' ? ' skip locked' : ''}`,
        [connectionId],
      );
      if (!row) {
        if (mode.kind === 'scheduled') return { kind: 'skipped' };
        throw notFound();
      }
      if (mode.kind === 'scheduled' && row.status !== 'active' && row.status !== 'degraded')
        return { kind: 'skipped' };
      usable(row);
      const opened = openRow(row);
      const now = o.now();
      const accessExpiresAt = ms(row.access_token_expires_at) ?? 0;
      // Someone (another caller, replica or the scheduler) may have refreshed while this one waited.
      if (mode.kind === 'ensure' && opened.access && accessExpiresAt > now + mode.minValidityMs)
        return { kind: 'token', token: tokenOf(row, opened.access, accessExpiresAt) };
      if (
        mode.kind === 'rejected' &&
        opened.access &&
        !sameSecret(opened.access, mode.rejected) &&
        accessExpiresAt > now
      )
        return { kind: 'token', token: tokenOf(row, opened.access, accessExpiresAt) };
      if (mode.kind === 'scheduled') {
        const due = ms(row.next_refresh_at);
        if (due === null || due > now) return { kind: 'skipped' };
      }
      if (await paused(em)) {
        if (mode.kind === 'scheduled') return { kind: 'skipped' };
        return { kind: 'failed', error: appPaused() };
      }
      const retryAt = ms(row.next_refresh_at);
      if (mode.kind !== 'scheduled' && row.status === 'degraded' && retryAt !== null && retryAt > now) {
        // Backing off: callers do not turn an outage into a stampede on Intuit's token endpoint.
        if (mode.kind === 'ensure' && opened.access && accessExpiresAt > now)
          return { kind: 'token', token: tokenOf(row, opened.access, accessExpiresAt) };
        return {
          kind: 'failed',
          error: new RetryLaterError(
            'refresh_unavailable',
            'Intuit is failing transiently; try again later',
            Math.max(1, Math.ceil((retryAt - now) / 1000)),
          ),
        };
      }
      if (!opened.refresh) throw reauthorize();

      let used = opened.refresh;
      let answer = await callIntuit(used);
      let fallbackTried = false;
      if (
        !answer.ok &&
        answer.outcome.kind === 'grant_rejected' &&
        opened.lastGood &&
        !sameSecret(opened.lastGood, used)
      ) {
        used = opened.lastGood;
        fallbackTried = true;
        answer = await callIntuit(used);
      }
      const answeredAt = o.now();
      if (answer.ok) {
        o.crash('after_intuit_answer');
        const token = await writeRefreshed(em, row, opened, used, answer, answeredAt);
        committed = token;
        return { kind: 'token', token };
      }
      o.log.warn(
        { connectionId, kind: answer.outcome.kind, errorCode: answer.outcome.code, fallbackTried },
        'refresh failed',
      );
      const error = await writeFailed(em, row, answer.outcome, fallbackTried, answeredAt);
      // A still-valid token outlives a transient failure of an early refresh.
      if (
        mode.kind === 'ensure' &&
        error instanceof RetryLaterError &&
        error.code === 'refresh_unavailable' &&
        opened.access &&
        accessExpiresAt > answeredAt
      )
        return { kind: 'token', token: tokenOf(row, opened.access, accessExpiresAt) };
      return { kind: 'failed', error };
    });
    if (committed) {
      o.crash('after_commit');
      o.log.info({ connectionId, credentialVersion: committed.credentialVersion }, 'tokens refreshed');
    }
    return result;
  }

  /** One flight per connection in this process; later callers share its result. */
  function flight(connectionId: string, mode: Mode): Promise<FlightResult> {
    const existing = inflight.get(connectionId);
    if (existing) return existing;
    const started = refreshLocked(connectionId, mode).finally(() => inflight.delete(connectionId));
    inflight.set(connectionId, started);
    return started;
  }

  async function requestFlight(connectionId: string, mode: Mode): Promise<AccessTokenResponse> {
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

  async function readRow(connectionId: string): Promise<Row> {
    const [row] = await query<Row>(fork(), SELECT, [connectionId]);
    if (!row) throw notFound();
    return row;
  }

  /**
   * Notes use, so the scheduler refreshes this connection ahead of expiry rather than on keep-alive. A null
   * schedule (revoked at Intuit) stays null.
   */
  function noteUse(row: Row, now: number) {
    const last = ms(row.last_used_at);
    if (last !== null && now - last < Math.min(5 * 60_000, o.activeWindowMs / 2)) return;
    const ahead = schedule(
      now,
      ms(row.access_token_expires_at) ?? now,
      ms(row.refresh_token_expires_at) ?? now,
      now,
    );
    void execute(
      fork(),
      `update credential set last_used_at = $2,
        next_refresh_at = case when status = 'active' and next_refresh_at is not null then least(next_refresh_at, $3)
          else next_refresh_at end
       where connection_id = $1`,
      [row.connection_id, iso(now), iso(ahead)],
    ).catch((err: unknown) => o.log.warn({ err, connectionId: row.connection_id }, 'recording use failed'));
  }

  return {
    async store(connectionId: string, req: StoreCredentialsRequest): Promise<StoreCredentialsResponse> {
      const now = o.now();
      return fork().transactional(async (em: Em) => {
        const [row] = await query<Row>(em, `${SELECT} for update of c`, [connectionId]);
        if (row && (row.org_id !== req.orgId || row.realm_id !== req.realmId)) {
          throw new AppError('connection_conflict', 'The connection belongs to another org or realm', {
            status: 409,
          });
        }
        if (row?.status === 'disconnected') throw disconnected();
        let dek: Buffer;
        let version = 1;
        if (row) {
          const opened = openRow(row);
          if (opened.refresh && sameSecret(opened.refresh, req.refreshToken))
            return { connectionId, credentialVersion: row.credential_version, changed: false };
          dek = opened.dek;
          version = row.credential_version + 1;
        } else {
          const key = o.vault.newDataKey(connectionId);
          dek = key.dek;
          await execute(
            em,
            `insert into credential (connection_id, org_id, realm_id, environment, scopes, status,
              credential_version, grant_created_at, updated_at)
             values ($1, $2, $3, $4, $5::jsonb, 'active', 0, $6, $6)`,
            [connectionId, req.orgId, req.realmId, req.environment, JSON.stringify(req.scopes), iso(now)],
          );
          await execute(em, 'insert into data_key (connection_id, sealed_key) values ($1, $2)', [
            connectionId,
            key.sealedKey,
          ]);
        }
        const accessExpiresAt = Date.parse(req.accessTokenExpiresAt);
        const hardExpiresAt = now + FIVE_YEARS_MS;
        const refreshExpiresAt = Math.min(Date.parse(req.refreshTokenExpiresAt), hardExpiresAt);
        // A new grant: fresh health, a fresh five-year window, no fallback from the old grant.
        await execute(
          em,
          `update credential set environment = $2, scopes = $3::jsonb, status = 'active', credential_version = $4,
            access_token_sealed = $5, refresh_token_sealed = $6, last_good_refresh_token_sealed = null,
            access_token_expires_at = $7, refresh_token_expires_at = $8, refresh_token_hard_expires_at = $9,
            grant_created_at = $10, next_refresh_at = $11, last_used_at = $10, degraded_since = null, attempts = 0,
            last_error_code = null, deactivation_reason = null, reconnect_soon_sent_at = null, updated_at = $10
           where connection_id = $1`,
          [
            connectionId,
            req.environment,
            JSON.stringify(req.scopes),
            version,
            o.vault.sealToken(dek, connectionId, 'access_token', version, req.accessToken),
            o.vault.sealToken(dek, connectionId, 'refresh_token', version, req.refreshToken),
            iso(accessExpiresAt),
            iso(refreshExpiresAt),
            iso(hardExpiresAt),
            iso(now),
            // A fresh grant is about to be used (the first sync), so it counts as in use.
            iso(schedule(now, accessExpiresAt, refreshExpiresAt, now)),
          ],
        );
        return { connectionId, credentialVersion: version, changed: true };
      });
    },

    async getAccessToken(connectionId: string, minValidityMs: number): Promise<AccessTokenResponse> {
      const row = await readRow(connectionId);
      usable(row);
      const now = o.now();
      noteUse(row, now);
      const opened = openRow(row);
      const expiresAt = ms(row.access_token_expires_at) ?? 0;
      if (opened.access && expiresAt > now + minValidityMs) return tokenOf(row, opened.access, expiresAt);
      return requestFlight(connectionId, { kind: 'ensure', minValidityMs });
    },

    async refreshAfterRejection(connectionId: string, rejected: string): Promise<AccessTokenResponse> {
      const row = await readRow(connectionId);
      usable(row);
      const opened = openRow(row);
      const expiresAt = ms(row.access_token_expires_at) ?? 0;
      if (opened.access && !sameSecret(opened.access, rejected) && expiresAt > o.now())
        return tokenOf(row, opened.access, expiresAt);
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
      if (row.status === 'disconnected' && row.sealed_key) return { connectionId, revokedAtIntuit: true };
      if (row.status === 'disconnected') throw disconnected();
      const opened = row.sealed_key ? openRow(row) : undefined;
      const token = opened?.refresh ?? opened?.access;
      const revokedAtIntuit = token ? await revokeAtIntuit(connectionId, token) : false;
      if (revokedAtIntuit) {
        // The grant is dead at Intuit: answer 410 from now on instead of serving a revoked token, and stop
        // scheduling so no refresh turns it into a deactivation. The data key stays until ConnectionDisconnected
        // shreds it.
        await execute(
          fork(),
          `update credential set status = 'disconnected', next_refresh_at = null, updated_at = $2
           where connection_id = $1`,
          [connectionId, iso(o.now())],
        );
      }
      return { connectionId, revokedAtIntuit };
    },

    /**
     * The org disconnected: revoke at Intuit if that has not happened and still can, then crypto-shred
     * (delete the data key, drop the sealed values) and stop scheduling. Runs in the caller's transaction
     * (the inbox's), so a redelivered event does nothing.
     */
    async shred(em: Em, connectionId: string, orgId: string, revokedAlready: boolean): Promise<boolean> {
      const [row] = await query<Row>(em, `${SELECT} for update of c`, [connectionId]);
      // A revoked connection is 'disconnected' already but keeps its data key until this shred.
      if (!row || (row.status === 'disconnected' && !row.sealed_key)) return false;
      if (row.org_id !== orgId) {
        o.log.warn({ connectionId }, 'disconnect names another org; ignored');
        return false;
      }
      if (!revokedAlready && row.status !== 'disconnected' && row.sealed_key) {
        const opened = openRow(row);
        const token = opened.refresh ?? opened.access;
        if (token) await revokeAtIntuit(connectionId, token);
      }
      await execute(em, 'delete from data_key where connection_id = $1', [connectionId]);
      await execute(
        em,
        `update credential set status = 'disconnected', access_token_sealed = null, refresh_token_sealed = null,
          last_good_refresh_token_sealed = null, next_refresh_at = null, updated_at = $2
         where connection_id = $1`,
        [connectionId, iso(o.now())],
      );
      return true;
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
      const [row] = await query<{ attempts: number }>(
        fork(),
        `update credential set attempts = attempts + 1, last_error_code = $2,
          next_refresh_at = $3::timestamptz
            + make_interval(secs => least($5::double precision, $4::double precision * 2 ^ least(attempts, 30)) / 1000),
          updated_at = $3
         where connection_id = $1 and status in ('active', 'degraded') and next_refresh_at <= $3
         returning attempts`,
        [connectionId, code, iso(o.now()), backoffMs(1, o.backoff, o.random), o.backoff.maxMs],
      );
      o.log.error(
        { connectionId, errorCode: code, attempts: row?.attempts ?? null },
        'scheduled refresh failed unexpectedly; deferred',
      );
      return row !== undefined;
    },

    /** Due connections, oldest first; none while the app's credentials are paused. */
    async due(limit: number): Promise<string[]> {
      const em = fork();
      if (await paused(em)) return [];
      const rows = await query<{ connection_id: string }>(
        em,
        `select connection_id from credential where status in ('active', 'degraded') and next_refresh_at <= $1
         order by next_refresh_at limit $2`,
        [iso(o.now()), limit],
      );
      return rows.map((r) => r.connection_id);
    },
  };
}

export type TokenManager = ReturnType<typeof createTokenManager>;
