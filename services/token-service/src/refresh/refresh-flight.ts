import type { Outbox } from '@qbo/event-bus';
import type { EventFactory } from '@qbo/events';
import type { AppError, Logger } from '@qbo/service-kit';
import type { AccessTokenResponse } from '@qbo/token-api';
import type { CrashPoint } from '../config.js';
import { decideBeforeRefresh, type Mode } from '../domain/before-refresh.js';
import { type BackoffPolicy, decide, type Health } from '../domain/refresh-health.js';
import { FIVE_YEARS_MS } from '../domain/schedule.js';
import type { TokenAnswer } from '../domain/token-response.js';
import type { TokenEndpoint } from '../intuit/token-endpoint.js';
import type { TokenMetrics } from '../metrics.js';
import type { CredentialRow, Em } from '../store/credentials.js';
import * as store from '../store/credentials.js';
import { iso, ms } from '../store/time.js';
import type { Vault } from '../vault/vault.js';
import {
  appPaused,
  backingOff,
  disconnected,
  isTransient,
  notFound,
  reauthorize,
  throttled,
} from './errors.js';
import { healthEvents, rotationEvents } from './health-events.js';
import { type Opened, sameSecret, tokenFacts, tokenOf } from './open-credential.js';

export type { Mode } from '../domain/before-refresh.js';

export type FlightResult =
  | { kind: 'token'; token: AccessTokenResponse }
  | { kind: 'skipped' }
  | { kind: 'failed'; error: AppError };

/** The refresh's flight mode, with the token a `rejected` caller saw refused. */
export type FlightMode = Exclude<Mode, { kind: 'rejected' }> | { kind: 'rejected'; rejected: string };

export interface RefreshFlightOptions {
  fork: () => Em;
  vault: Vault;
  intuit: TokenEndpoint;
  outbox: Outbox;
  events: EventFactory;
  log: Logger;
  metrics: TokenMetrics;
  now: () => number;
  random: () => number;
  /** Identifies the app credentials in use, so a pause applies to exactly those. */
  clientFingerprint: string;
  backoff: BackoffPolicy;
  reconnectLeadMs: number;
  /** Bounds the wait for another replica's refresh of the same row. */
  lockTimeoutMs: number;
  /** A connection is force-refreshed for a `rejected` caller at most once per this window. */
  forcedRefreshIntervalMs: number;
  /** How often a paused app is probed with one refresh. */
  probeIntervalMs: number;
  crash: (point: CrashPoint) => void;
  open: (row: CredentialRow) => Opened;
  /** When the scheduler should next refresh, from the new expiries. */
  schedule: (
    now: number,
    accessExpiresAt: number,
    refreshExpiresAt: number,
    lastUsedAt: number | null,
  ) => number;
}

/**
 * One refresh, in one database transaction holding the credential row's lock (`FOR UPDATE`): re-check whether
 * it is still needed, call Intuit, then write the new tokens and their events (outbox) in the same commit. A
 * token is returned only after that commit, so a refresh token Intuit issued is never used or reported before
 * it is durable.
 */
export function createRefreshFlight(o: RefreshFlightOptions) {
  const callIntuit = async (refreshToken: string) => {
    const started = performance.now();
    const answer = await o.intuit.refresh(refreshToken);
    o.metrics.intuitCall(answer.ok ? 'ok' : answer.outcome.kind, performance.now() - started);
    return answer;
  };

  const healthOf = (row: CredentialRow): Health =>
    row.status === 'degraded'
      ? { status: 'degraded', since: ms(row.degraded_since) ?? o.now(), attempts: Math.max(1, row.attempts) }
      : { status: 'healthy' };

  const subject = (row: CredentialRow) => ({
    connectionId: row.connection_id,
    orgId: row.org_id,
    realmId: row.realm_id,
  });

  /** Writes a successful refresh and its events; the caller's transaction commits them together. */
  async function writeRefreshed(
    em: Em,
    row: CredentialRow,
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
    const reconnectSoon = row.reconnect_soon_sent_at === null && hardExpiresAt - now <= o.reconnectLeadMs;
    await store.writeRefreshed(em, {
      connectionId: id,
      version,
      accessSealed: o.vault.sealToken(opened.dek, id, 'access_token', version, answer.accessToken),
      refreshSealed: o.vault.sealToken(opened.dek, id, 'refresh_token', version, answer.refreshToken),
      lastGoodSealed:
        lastGood && o.vault.sealToken(opened.dek, id, 'last_good_refresh_token', version, lastGood),
      accessExpiresAt,
      refreshExpiresAt,
      hardExpiresAt,
      nextRefreshAt: o.schedule(now, accessExpiresAt, refreshExpiresAt, ms(row.last_used_at)),
      reconnectSoonAt: reconnectSoon ? now : null,
      now,
    });
    const [rotatedEvent, ...soon] = rotationEvents(o.events, subject(row), {
      version,
      accessExpiresAt,
      refreshExpiresAt,
      hardExpiresAt,
      rotated,
      reconnectSoon,
      now,
    });
    const recovered = healthEvents(
      o.events,
      subject(row),
      decide(healthOf(row), { ok: true }, now).changes,
      false,
    );
    await o.outbox.add(em, [...(rotatedEvent ? [rotatedEvent] : []), ...recovered, ...soon]);
    return tokenOf(row, answer.accessToken, accessExpiresAt, version);
  }

  /** Records a failed refresh (health, schedule, events) and says what the caller gets. */
  async function writeFailed(
    em: Em,
    row: CredentialRow,
    outcome: Extract<TokenAnswer, { ok: false }>['outcome'],
    fallbackTried: boolean,
    now: number,
  ): Promise<AppError> {
    const decision = decide(healthOf(row), outcome, now, { backoff: o.backoff, random: o.random });
    const events = healthEvents(o.events, subject(row), decision.changes, fallbackTried);
    const id = row.connection_id;
    if (decision.pauseApp) {
      const code = outcome.kind === 'app_rejected' ? outcome.code : 'invalid_client';
      // Concurrent flights of other connections hit the same rejection: only the one that paused reports it.
      if (await store.pauseApp(em, o.clientFingerprint, code, now, now + o.probeIntervalMs)) {
        await o.outbox.add(em, events);
        o.metrics.appPause('paused');
        o.log.error(
          { connectionId: id, errorCode: code, probeInMs: o.probeIntervalMs },
          'Intuit rejected the app credentials twice in a row; refreshing paused, probing until they work',
        );
      }
      return appPaused(Math.ceil(o.probeIntervalMs / 1000));
    }
    const health = decision.health;
    if (health.status === 'deactivated') {
      await store.writeDeactivated(em, {
        connectionId: id,
        reason: health.reason,
        attempts: row.attempts + 1 + (fallbackTried ? 1 : 0),
        errorCode: outcome.code ?? null,
        now,
      });
      await o.outbox.add(em, events);
      return reauthorize();
    }
    const retryAt = decision.retryAt ?? now + o.backoff.initialMs;
    await store.writeRetry(em, {
      connectionId: id,
      degradedSince: health.status === 'degraded' ? health.since : null,
      attempts: health.status === 'degraded' ? health.attempts : 0,
      errorCode: outcome.code ?? null,
      retryAt,
      now,
    });
    await o.outbox.add(em, events);
    return backingOff(retryAt, now);
  }

  return async function refreshLocked(connectionId: string, mode: FlightMode): Promise<FlightResult> {
    let committed: AccessTokenResponse | undefined;
    const result = await o.fork().transactional(async (em: Em): Promise<FlightResult> => {
      await store.limitLockWait(em, o.lockTimeoutMs);
      const background = mode.kind === 'scheduled' || mode.kind === 'probe';
      const row = await store.readCredential(em, connectionId, background ? 'skip' : 'wait');
      if (!row) {
        if (background) return { kind: 'skipped' };
        throw notFound();
      }
      if (background && row.status !== 'active' && row.status !== 'degraded') return { kind: 'skipped' };
      if (row.status === 'disconnected') throw disconnected();
      if (row.status === 'deactivated') throw reauthorize();
      const opened = o.open(row);
      const now = o.now();
      const facts = tokenFacts(row, opened, mode.kind === 'rejected' ? mode.rejected : undefined);
      const paused = await store.isAppPaused(em, o.clientFingerprint);
      const before = decideBeforeRefresh(mode, facts, {
        now,
        appPaused: paused,
        forcedRefreshIntervalMs: o.forcedRefreshIntervalMs,
      });
      switch (before.action) {
        case 'skip':
          return { kind: 'skipped' };
        case 'serve':
          return { kind: 'token', token: tokenOf(row, opened.access ?? '', facts.accessExpiresAt) };
        case 'refuse':
          throw before.reason === 'disconnected' ? disconnected() : reauthorize();
        case 'app_paused':
          return { kind: 'failed', error: appPaused() };
        case 'back_off':
          return { kind: 'failed', error: backingOff(before.retryAt, now) };
        case 'throttled':
          o.log.warn({ connectionId }, 'compare-and-refresh throttled');
          return { kind: 'failed', error: throttled(before.retryAt, now) };
        case 'refresh':
          break;
      }
      if (mode.kind === 'rejected') await store.noteForcedRefresh(em, connectionId, now);

      let used = opened.refresh ?? '';
      let answer = await callIntuit(used);
      // One invalid_client stops every refresh of the app, so it must be Intuit's considered answer, not a
      // glitch: asked again at once, the same refusal confirms it. The grant was not used (the client was
      // refused before it), so asking again is safe.
      if (!answer.ok && answer.outcome.kind === 'app_rejected') answer = await callIntuit(used);
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
        if (paused) {
          const since = await store.resumeApp(em, o.clientFingerprint);
          if (since) {
            o.metrics.appPause('resumed');
            o.log.warn(
              { connectionId, pausedSince: iso(ms(since)) },
              'Intuit accepts the app credentials again; refreshing resumed',
            );
          }
        }
        committed = token;
        return { kind: 'token', token };
      }
      o.log.warn(
        { connectionId, kind: answer.outcome.kind, errorCode: answer.outcome.code, fallbackTried },
        'refresh failed',
      );
      const error = await writeFailed(em, row, answer.outcome, fallbackTried, answeredAt);
      if (mode.kind === 'probe') {
        o.metrics.appPause('probe_failed');
        o.log.warn(
          { connectionId, kind: answer.outcome.kind, errorCode: answer.outcome.code },
          'app credentials probe failed; refreshing stays paused',
        );
      }
      // A still-valid token outlives a transient failure of an early refresh.
      if (mode.kind === 'ensure' && isTransient(error) && opened.access && facts.accessExpiresAt > answeredAt)
        return { kind: 'token', token: tokenOf(row, opened.access, facts.accessExpiresAt) };
      return { kind: 'failed', error };
    });
    if (committed) {
      o.crash('after_commit');
      o.log.info({ connectionId, credentialVersion: committed.credentialVersion }, 'tokens refreshed');
    }
    return result;
  };
}
