import { AppError, hasCode, type Logger } from '@qbo/service-kit';
import { type OrgVerifier, unauthenticated } from '@qbo/service-kit/org-auth';
import type { Context, Hono } from 'hono';
import type { Audit } from '../audit.js';
import { refusals } from '../domain/callback.js';
import { checkReturnTo } from '../domain/return-to.js';
import { bindingCookie, pkcePair, randomToken, seal, sha256 } from '../domain/state.js';
import type { IntuitOAuth } from '../intuit/oauth.js';
import type { States } from '../store/states.js';
import { bindingCookieJar } from './binding-cookie.js';
import type { ConnectGuards } from './connect-guards.js';

export interface InitiateDeps {
  log: Logger;
  states: States;
  intuit: Pick<IntuitOAuth, 'authorizeUrl'>;
  audit: Audit;
  verifier: OrgVerifier;
  guards: ConnectGuards;
  keys: { cookie: Buffer; seal: Buffer };
  settings: {
    pkce: boolean;
    stateTtlSeconds: number;
    returnToOrigins: readonly string[];
    cookieSecure: boolean;
  };
  now?: () => number;
}

const invalidBody = () =>
  new AppError('invalid_request', 'The body must be JSON: {"returnTo": "<url>"} or empty', { status: 400 });

/** `returnTo` from the query, or from a POST's JSON body `{returnTo}` (an empty body is fine). */
async function rawReturnTo(c: Context): Promise<string | undefined> {
  const raw = c.req.query('returnTo');
  if (raw !== undefined || c.req.method !== 'POST') return raw;
  const text = await c.req.text();
  let body: unknown = {};
  try {
    if (text.trim() !== '') body = JSON.parse(text);
  } catch {
    throw invalidBody();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidBody();
  const value = (body as { returnTo?: unknown }).returnTo;
  if (value !== undefined && typeof value !== 'string') throw invalidBody();
  return value;
}

/**
 * `POST /connect/quickbooks` (JSON `{authorizeUrl}`) and `GET /connect/quickbooks` (302 to it): rate limits,
 * org authentication, returnTo; then a fresh state bound to this browser.
 */
export function initiateRoutes(app: Hono, d: InitiateDeps): void {
  const { settings: s, guards, log } = d;
  const now = d.now ?? Date.now;
  const cookie = bindingCookieJar(s.cookieSecure);
  const stage = 'initiate' as const;

  const initiate = async (c: Context, mode: 'json' | 'redirect') => {
    await guards.limit(c, stage, 'initiate_ip', guards.ip(c));
    const principal = await d.verifier.verify(c.req.header('authorization')).catch(async (err: unknown) => {
      if (hasCode(err, 'org_reserved'))
        await d.audit(undefined, { stage, reason: 'org_reserved', clientFingerprint: guards.fp(c) });
      throw err;
    });
    if (!principal) {
      await d.audit(undefined, { stage, reason: 'unauthenticated', clientFingerprint: guards.fp(c) });
      throw unauthenticated();
    }
    await guards.limit(c, stage, 'initiate_org', principal.orgId, principal.orgId);

    const returnTo = checkReturnTo(await rawReturnTo(c), s.returnToOrigins);
    if (!returnTo.ok) {
      await d.audit(principal.orgId, {
        stage,
        reason: 'return_to_not_allowed',
        clientFingerprint: guards.fp(c),
        ...(returnTo.origin ? { returnToOrigin: returnTo.origin.slice(0, 300) } : {}),
      });
      throw new AppError('return_to_not_allowed', refusals.return_to_not_allowed.title, { status: 400 });
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
      expiresAt: new Date(now() + s.stateTtlSeconds * 1000),
    });
    const authorizeUrl = d.intuit.authorizeUrl(state, pkce?.challenge);
    log.info({ orgId: principal.orgId }, 'connect initiated');
    cookie.set(c, binding.value, s.stateTtlSeconds);
    c.header('cache-control', 'no-store');
    return mode === 'json' ? c.json({ authorizeUrl }) : c.redirect(authorizeUrl, 302);
  };

  app.post('/connect/quickbooks', (c) => initiate(c, 'json'));
  app.get('/connect/quickbooks', (c) => initiate(c, 'redirect'));
}
