import { AppError } from '@qbo/service-kit';
import type { Hono } from 'hono';
import type { Audit } from '../audit.js';
import type { CompleteConnection } from '../connect/complete-connection.js';
import { judgeState, providerErrorCode, type RefusalReason, refusals } from '../domain/callback.js';
import { withOutcome } from '../domain/return-to.js';
import { cookieMatches, sha256, unseal } from '../domain/state.js';
import type { StateRow, States } from '../store/states.js';
import { bindingCookieJar } from './binding-cookie.js';
import type { ConnectGuards } from './connect-guards.js';
import { refusal } from './respond.js';

export interface CallbackDeps {
  states: States;
  complete: CompleteConnection;
  audit: Audit;
  guards: ConnectGuards;
  keys: { cookie: Buffer; seal: Buffer };
  cookieSecure: boolean;
  now?: () => Date;
}

const pages = {
  exchange_failed: { status: 502, title: 'QuickBooks did not complete the connection. Start it again.' },
  token_service_unavailable: {
    status: 503,
    title: 'The connection could not be completed right now. Start it again in a moment.',
  },
  connection_disconnected_meanwhile: {
    status: 409,
    title: 'The connection was disconnected while it was being renewed. Start the connection again.',
  },
} as const;

/**
 * `GET /oauth/callback`: Intuit sends the browser back here. The state must be one this browser started and
 * not yet spent; then the connection is completed and the browser goes back to the app's `returnTo`.
 */
export function callbackRoute(app: Hono, d: CallbackDeps): void {
  const { guards } = d;
  const now = d.now ?? (() => new Date());
  const cookie = bindingCookieJar(d.cookieSecure);
  const stage = 'callback' as const;

  app.get('/oauth/callback', async (c) => {
    c.header('cache-control', 'no-store');
    await guards.limit(c, stage, 'callback_ip', guards.ip(c));
    const q = (name: string) => c.req.query(name);
    const refuse = async (reason: RefusalReason, orgId?: string, providerError?: string) => {
      await d.audit(orgId, {
        stage,
        reason,
        clientFingerprint: guards.fp(c),
        ...(providerError ? { providerError } : {}),
      });
      const r = refusals[reason];
      return refusal(c, new AppError(reason, r.title, { status: r.status }));
    };
    const page = (code: keyof typeof pages) =>
      refusal(c, new AppError(code, pages[code].title, { status: pages[code].status }));

    const state = q('state');
    const stateHash = state ? sha256(state) : undefined;
    const lookup = async (): Promise<{ row: StateRow | undefined; ok: boolean; reason?: RefusalReason }> => {
      if (!stateHash) return { row: undefined, ok: false, reason: 'state_missing' };
      const row = await d.states.find(stateHash);
      const verdict = judgeState(row, now(), (r) =>
        cookieMatches(d.keys.cookie, cookie.read(c), r.stateHash, r.nonceHash),
      );
      return verdict.ok ? { row, ok: true } : { row, ok: false, reason: verdict.reason };
    };

    const intuitError = q('error');
    if (intuitError !== undefined) {
      const providerError = providerErrorCode(intuitError);
      const found = await lookup();
      // Only a state this browser owns earns a trip back to the app; it is spent so it cannot be used later.
      if (found.ok && found.row && stateHash && (await d.states.consume(stateHash))) {
        cookie.clear(c);
        await d.audit(found.row.orgId, {
          stage,
          reason: 'provider_error',
          providerError,
          clientFingerprint: guards.fp(c),
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
    cookie.clear(c);

    const done = await d.complete({
      orgId: row.orgId,
      userId: row.userId,
      realmId,
      code,
      state: state ?? '',
      codeVerifier: () =>
        row.sealedCodeVerifier ? unseal(d.keys.seal, row.sealedCodeVerifier, stateHash) : undefined,
    });
    if (done.ok)
      return c.redirect(
        withOutcome(row.returnTo, { connection: done.connectionId, status: 'connected' }),
        303,
      );
    switch (done.refusal) {
      case 'realm_mismatch':
        return refuse('provider_error', row.orgId, 'realm_mismatch');
      case 'realm_owned_by_other_org':
        // Answered exactly as a failed exchange: the caller learns nothing of who holds the realm.
        await d.audit(row.orgId, { stage, reason: done.refusal, clientFingerprint: guards.fp(c) });
        return page('exchange_failed');
      case 'connection_disconnected_meanwhile':
        await d.audit(row.orgId, {
          stage,
          reason: 'connection_disconnected_meanwhile',
          clientFingerprint: guards.fp(c),
        });
        return page(done.refusal);
      default:
        return page(done.refusal);
    }
  });
}
