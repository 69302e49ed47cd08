import { randomUUID } from 'node:crypto';
import type { Outbox } from '@qbo/event-bus';
import { ConnectionEstablished, ConnectionReauthorized, type EventFactory } from '@qbo/events';
import type { Logger, MikroORM } from '@qbo/service-kit';
import { type TokenServiceClient, TokenServiceError } from '@qbo/token-api';
import type { Context, Hono } from 'hono';
import type { Audit } from '../audit.js';
import type { OrgPrincipal, OrgVerifier } from '../auth/org-verifier.js';
import { judgeState, providerErrorCode, type RefusalReason, refusals } from '../domain/callback.js';
import { checkReturnTo, withOutcome } from '../domain/return-to.js';
import {
  bindingCookie,
  bindingCookieHeader,
  bindingCookieName,
  cookieMatches,
  fingerprint,
  pkcePair,
  randomToken,
  seal,
  sha256,
  unseal,
} from '../domain/state.js';
import { ExchangeError, type IntuitOAuth } from '../oauth/intuit.js';
import { type Connections, DisconnectedMeanwhile } from '../store/connections.js';
import type { StateRow, States } from '../store/states.js';
import type { RateLimits } from './rate-limit.js';
import { clientIp, problem, refusal } from './respond.js';

export interface ConnectDeps {
  orm: MikroORM;
  log: Logger;
  states: States;
  connections: Connections;
  limits: RateLimits;
  intuit: IntuitOAuth;
  tokens: TokenServiceClient;
  outbox: Outbox;
  events: EventFactory;
  audit: Audit;
  verifier: OrgVerifier;
  keys: { cookie: Buffer; seal: Buffer; fingerprint: Buffer };
  settings: {
    environment: 'sandbox' | 'production';
    scopes: readonly string[];
    pkce: boolean;
    stateTtlSeconds: number;
    returnToOrigins: readonly string[];
    cookieSecure: boolean;
    trustProxy: boolean;
  };
}

const readCookie = (c: Context, name: string): string | undefined => {
  const header = c.req.header('cookie') ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
};

export function connectRoutes(app: Hono, d: ConnectDeps): void {
  const { settings: s, log } = d;
  const cookieName = bindingCookieName(s.cookieSecure);
  const cookie = (value: string, maxAge: number) => bindingCookieHeader(value, maxAge, s.cookieSecure);
  const clearCookie = cookie('', 0);
  const fp = (c: Context) => fingerprint(d.keys.fingerprint, clientIp(c, s.trustProxy));

  const limited = (c: Context, outcome: Awaited<ReturnType<RateLimits['consume']>>): Response | undefined => {
    if (outcome.ok) return undefined;
    if ('unavailable' in outcome) {
      log.error('rate-limit store unavailable; refusing connect requests');
      return problem(c, 503, 'unavailable', 'Try again later', { 'retry-after': '5' });
    }
    return problem(c, 429, 'rate_limited', 'Too many connect attempts; try again later', {
      'retry-after': String(outcome.retryAfterSeconds),
    });
  };

  /**
   * Revokes a grant this callback obtained but will not keep, so nothing is left refreshing a connection that
   * does not exist. Through the token-service first when it may hold the grant under a connection that is not
   * (or no longer) live (it revokes at Intuit and stops scheduling refreshes); at Intuit directly with the
   * refresh token otherwise, or when the token-service does not hold it or could not revoke. Best effort: a
   * failure is logged with its code only.
   */
  const discardGrant = async (orgId: string, refreshToken: string, handedOffAs: string | undefined) => {
    if (handedOffAs) {
      try {
        if ((await d.tokens.revoke(handedOffAs)).revokedAtIntuit) return;
      } catch (err) {
        const errorCode = err instanceof TokenServiceError ? err.code : 'unexpected';
        if (errorCode !== 'connection_not_found')
          log.warn(
            { orgId, connectionId: handedOffAs, errorCode },
            'revoking a discarded grant through the token-service failed; revoking at Intuit',
          );
      }
    }
    try {
      await d.intuit.revoke(refreshToken);
    } catch (err) {
      const errorCode = err instanceof ExchangeError ? err.code : 'unexpected';
      log.warn({ orgId, errorCode }, 'revoking a discarded grant at Intuit failed');
    }
  };

  /** Rate limits, org authentication, returnTo; then a fresh state bound to this browser. */
  const initiate = async (c: Context, mode: 'json' | 'redirect') => {
    const stage = 'initiate' as const;
    const ip = clientIp(c, s.trustProxy);
    const byIp = limited(c, await d.limits.consume('initiate_ip', ip));
    if (byIp) {
      if (byIp.status === 429)
        await d.audit(undefined, { stage, reason: 'rate_limited', clientFingerprint: fp(c) });
      return byIp;
    }
    const principal: OrgPrincipal | undefined = await d.verifier.verify(c.req.header('authorization'));
    if (!principal) {
      await d.audit(undefined, { stage, reason: 'unauthenticated', clientFingerprint: fp(c) });
      return problem(c, 401, 'unauthenticated', 'A valid org credential is required', {
        'www-authenticate': 'Bearer',
      });
    }
    const byOrg = limited(c, await d.limits.consume('initiate_org', principal.orgId));
    if (byOrg) {
      if (byOrg.status === 429)
        await d.audit(principal.orgId, { stage, reason: 'rate_limited', clientFingerprint: fp(c) });
      return byOrg;
    }

    let raw = c.req.query('returnTo');
    if (raw === undefined && c.req.method === 'POST') {
      const text = await c.req.text();
      let body: unknown = {};
      try {
        if (text.trim() !== '') body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const value = (body as { returnTo?: unknown } | null | undefined)?.returnTo;
      if (
        typeof body !== 'object' ||
        body === null ||
        Array.isArray(body) ||
        (value !== undefined && typeof value !== 'string')
      ) {
        return problem(c, 400, 'invalid_request', 'The body must be JSON: {"returnTo": "<url>"} or empty');
      }
      raw = value;
    }
    const returnTo = checkReturnTo(raw, s.returnToOrigins);
    if (!returnTo.ok) {
      await d.audit(principal.orgId, {
        stage,
        reason: 'return_to_not_allowed',
        clientFingerprint: fp(c),
        ...(returnTo.origin ? { returnToOrigin: returnTo.origin.slice(0, 300) } : {}),
      });
      return problem(c, 400, 'return_to_not_allowed', refusals.return_to_not_allowed.title);
    }

    const state = randomToken();
    const stateHash = sha256(state);
    const binding = bindingCookie(d.keys.cookie, stateHash);
    const pkce = s.pkce ? pkcePair() : undefined;
    await d.states.insert({
      stateHash,
      orgId: principal.orgId,
      userId: principal.userId ?? null,
      nonceHash: binding.nonceHash,
      returnTo: returnTo.url,
      sealedCodeVerifier: pkce ? seal(d.keys.seal, pkce.verifier, stateHash) : null,
      expiresAt: new Date(Date.now() + s.stateTtlSeconds * 1000),
    });
    const authorizeUrl = d.intuit.authorizeUrl(state, pkce?.challenge);
    log.info({ orgId: principal.orgId }, 'connect initiated');
    c.header('set-cookie', cookie(binding.value, s.stateTtlSeconds));
    c.header('cache-control', 'no-store');
    return mode === 'json' ? c.json({ authorizeUrl }) : c.redirect(authorizeUrl, 302);
  };

  app.post('/connect/quickbooks', (c) => initiate(c, 'json'));
  app.get('/connect/quickbooks', (c) => initiate(c, 'redirect'));

  app.get('/oauth/callback', async (c) => {
    const stage = 'callback' as const;
    c.header('cache-control', 'no-store');
    const byIp = limited(c, await d.limits.consume('callback_ip', clientIp(c, s.trustProxy)));
    if (byIp) {
      if (byIp.status === 429)
        await d.audit(undefined, { stage, reason: 'rate_limited', clientFingerprint: fp(c) });
      return byIp;
    }
    const q = (name: string) => c.req.query(name);
    const refuse = async (reason: RefusalReason, orgId?: string, providerError?: string) => {
      await d.audit(orgId, {
        stage,
        reason,
        clientFingerprint: fp(c),
        ...(providerError ? { providerError } : {}),
      });
      const r = refusals[reason];
      return refusal(c, r.status, reason, r.title);
    };

    const state = q('state');
    const stateHash = state ? sha256(state) : undefined;
    const lookup = async (): Promise<{ row: StateRow | undefined; ok: boolean; reason?: RefusalReason }> => {
      if (!stateHash) return { row: undefined, ok: false, reason: 'state_missing' };
      const row = await d.states.find(stateHash);
      const verdict = judgeState(row, new Date(), (r) =>
        cookieMatches(d.keys.cookie, readCookie(c, cookieName), r.stateHash, r.nonceHash),
      );
      return verdict.ok ? { row, ok: true } : { row, ok: false, reason: verdict.reason };
    };

    const intuitError = q('error');
    if (intuitError !== undefined) {
      const providerError = providerErrorCode(intuitError);
      const found = await lookup();
      // Only a state this browser owns earns a trip back to the app; it is spent so it cannot be used later.
      if (found.ok && found.row && stateHash && (await d.states.consume(stateHash))) {
        c.header('set-cookie', clearCookie);
        await d.audit(found.row.orgId, {
          stage,
          reason: 'provider_error',
          providerError,
          clientFingerprint: fp(c),
        });
        return c.redirect(withOutcome(found.row.returnTo, { status: 'error', error: providerError }), 303);
      }
      return refuse('provider_error', found.row?.orgId, providerError);
    }

    const found = await lookup();
    if (!found.ok || !found.row || !stateHash)
      return refuse(found.reason ?? 'state_unknown', found.row?.orgId);
    const row = found.row;
    const code = q('code');
    const realmId = q('realmId');
    if (!code || code.length > 2048 || !realmId || !/^\d{1,32}$/.test(realmId)) {
      return refuse('provider_error', row.orgId, 'invalid_callback');
    }
    if (!(await d.states.consume(stateHash))) return refuse('state_reused', row.orgId);
    // The cookie goes with its state; it is left alone on refusals before this point, so a forged callback
    // planted in the user's browser cannot break the user's own attempt.
    c.header('set-cookie', clearCookie);

    // Checked before the exchange so a refused realm never gets a grant issued to us; the definitive check is
    // the unique index when the connection is written.
    const owner = await d.connections.ownerOfRealm(realmId);
    if (owner !== undefined && owner !== row.orgId) return refuse('realm_owned_by_other_org', row.orgId);

    let grant: Awaited<ReturnType<IntuitOAuth['exchange']>>;
    try {
      grant = await d.intuit.exchange({
        code,
        state: state ?? '',
        realmId,
        ...(row.sealedCodeVerifier
          ? { codeVerifier: unseal(d.keys.seal, row.sealedCodeVerifier, stateHash) }
          : {}),
      });
    } catch (err) {
      const errorCode = err instanceof ExchangeError ? err.code : 'exchange_failed';
      if (errorCode === 'realm_mismatch') return refuse('provider_error', row.orgId, 'realm_mismatch');
      log.warn({ orgId: row.orgId, errorCode }, 'code exchange failed');
      return refusal(
        c,
        502,
        'exchange_failed',
        'QuickBooks did not complete the connection. Start it again.',
      );
    }

    const existing = await d.connections.byOrgAndRealm(row.orgId, realmId);
    const connectionId = existing?.id ?? randomUUID();
    try {
      await storeWithRetry(d.tokens, connectionId, {
        orgId: row.orgId,
        realmId,
        environment: s.environment,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        accessTokenExpiresAt: grant.accessTokenExpiresAt,
        refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
        scopes: [...s.scopes],
      });
    } catch (err) {
      const errorCode = err instanceof TokenServiceError ? err.code : 'unexpected';
      log.error({ orgId: row.orgId, connectionId, errorCode }, 'credentials not handed to the token-service');
      // A lost answer may hide a stored grant, so the token-service is asked to revoke a new connection's. A
      // live connection being renewed is left alone there: revoking it would end the connection under a row
      // that stays live, and whichever grant it holds dies with the revoke at Intuit (the row then shows the
      // deactivation and the user reconnects).
      await discardGrant(row.orgId, grant.refreshToken, existing ? undefined : connectionId);
      return refusal(
        c,
        503,
        'token_service_unavailable',
        'The connection could not be completed right now. Start it again in a moment.',
      );
    }

    const at = new Date();
    try {
      await d.orm.em.fork().transactional(async (em) => {
        const previous = await d.connections.recordGrant(em, {
          id: connectionId,
          orgId: row.orgId,
          realmId,
          environment: s.environment,
          scopes: s.scopes,
          connectedBy: row.userId,
          at,
        });
        const common = {
          connectionId,
          realmId,
          environment: s.environment,
          scopes: [...s.scopes],
          ...(row.userId ? { connectedBy: row.userId } : {}),
        };
        await d.outbox.add(
          em,
          previous === undefined
            ? d.events(ConnectionEstablished, {
                orgId: row.orgId,
                realmId,
                data: { ...common, connectedAt: at.toISOString() },
              })
            : d.events(ConnectionReauthorized, {
                orgId: row.orgId,
                realmId,
                data: { ...common, reauthorizedAt: at.toISOString(), previousStatus: previous },
              }),
        );
      });
    } catch (err) {
      const liveRowKept = existing !== undefined && !(err instanceof DisconnectedMeanwhile);
      await discardGrant(row.orgId, grant.refreshToken, liveRowKept ? undefined : connectionId);
      if (isUniqueViolation(err)) return refuse('realm_owned_by_other_org', row.orgId);
      if (err instanceof DisconnectedMeanwhile) {
        await d.audit(row.orgId, {
          stage,
          reason: 'connection_disconnected_meanwhile',
          clientFingerprint: fp(c),
        });
        return refusal(
          c,
          409,
          'connection_disconnected_meanwhile',
          'The connection was disconnected while it was being renewed. Start the connection again.',
        );
      }
      throw err;
    }
    log.info({ orgId: row.orgId, connectionId, reconnect: existing !== undefined }, 'connection recorded');
    return c.redirect(withOutcome(row.returnTo, { connection: connectionId, status: 'connected' }), 303);
  });
}

/** The store is idempotent by connection id, so a retry after a lost answer is safe. */
async function storeWithRetry(
  tokens: TokenServiceClient,
  connectionId: string,
  body: Parameters<TokenServiceClient['storeCredentials']>[1],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await tokens.storeCredentials(connectionId, body);
      return;
    } catch (err) {
      if (!(err instanceof TokenServiceError) || !err.retryable || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, Math.min(err.retryAfterMs ?? 200 * 2 ** attempt, 2_000)));
    }
  }
}

const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Error &&
  (err.name === 'UniqueConstraintViolationException' || (err as { code?: string }).code === '23505');
