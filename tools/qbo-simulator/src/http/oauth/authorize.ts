import type { Context, Hono } from 'hono';
import type { Core } from '../../core.js';
import { realmIdFor } from '../../domain/seed.js';
import { parseScopes } from '../../oauth/scopes.js';
import { createRandom } from '../../random.js';
import { errorPage, escapeHtml } from '../respond.js';
import { OAUTH_PATHS } from './discovery.js';

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string | undefined;
  challenge: string | undefined;
  method: string | undefined;
}

const redirect = (c: Context, uri: string, params: Record<string, string | undefined>) => {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return c.redirect(url.toString(), 302);
};

const BAD_REDIRECT =
  "The redirect_uri query parameter value is invalid. Make sure it is listed in the Redirect URIs section on your app's keys tab and matches it exactly.";

/**
 * The browser leg (qbo-api-facts §1.2-1.3). A bad client or redirect URI shows an error page and never
 * redirects; otherwise the user's answer goes back to the redirect URI with `code`, `state` and `realmId`,
 * or `error=access_denied`. Consent is automatic for tests, or a small page for the demo.
 */
export function authorizeRoutes(app: Hono, core: Core): void {
  const defaultRealm = () => {
    const first = core.realms.all()[0];
    if (first) return first.realmId;
    const realmId = realmIdFor(createRandom(core.clock.now()), (id) => core.realms.get(id) !== undefined);
    return core.realms.create(realmId, 'Sandbox Company_US_1', core.clock.now()).realmId;
  };

  const approve = (c: Context, req: AuthorizeRequest, realmId: string) => {
    const { code, realmId: granted } = core.oauth.issueCode(
      {
        clientId: req.clientId,
        redirectUri: req.redirectUri,
        scope: req.scope,
        realmId,
        ...(req.challenge ? { challenge: req.challenge } : {}),
        ...(req.method ? { method: req.method } : {}),
      },
      core.clock.now(),
    );
    return redirect(c, req.redirectUri, { code, state: req.state, realmId: granted });
  };

  const consentPage = (req: AuthorizeRequest) => {
    const options = core.realms
      .all()
      .map(
        (co, i) =>
          `<label><input type="radio" name="realmId" value="${co.realmId}"${i === 0 ? ' checked' : ''}> ${escapeHtml(co.name)} (${co.realmId})</label><br>`,
      )
      .join('');
    const hidden = Object.entries(req)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(String(v))}">`)
      .join('');
    return `<!DOCTYPE html><html><head><title>Connect to QuickBooks</title></head><body><h1>Connect to QuickBooks (simulator)</h1><form method="post" action="${OAUTH_PATHS.authorize}/consent">${hidden}${options || '<p>A new company will be created.</p>'}<button name="decision" value="approve">Connect</button> <button name="decision" value="deny">Cancel</button></form></body></html>`;
  };

  app.get(OAUTH_PATHS.authorize, (c) => {
    const q = (k: string) => c.req.query(k);
    const clientId = q('client_id') ?? '';
    const redirectUri = q('redirect_uri') ?? '';
    const client = core.oauth.apps.get(clientId);
    if (!client) return c.html(errorPage('Error', 'The client_id query parameter value is invalid.'), 400);
    if (!redirectUri || !core.oauth.redirectAllowed(client, redirectUri)) {
      return c.html(errorPage('Error', BAD_REDIRECT), 400);
    }
    const req: AuthorizeRequest = {
      clientId,
      redirectUri,
      scope: q('scope') ?? '',
      state: q('state'),
      challenge: q('code_challenge'),
      method: q('code_challenge_method'),
    };
    if (q('response_type') !== 'code') {
      return redirect(c, redirectUri, { error: 'unsupported_response_type', state: req.state });
    }
    if (core.oauth.invalidScope(parseScopes(req.scope))) {
      return redirect(c, redirectUri, { error: 'invalid_scope', state: req.state });
    }
    if (core.consent === 'page') return c.html(consentPage(req));
    const decision = core.consentQueue.shift() ?? { decision: 'approve' };
    if (decision.decision === 'deny')
      return redirect(c, redirectUri, { error: 'access_denied', state: req.state });
    return approve(c, req, decision.realmId ?? defaultRealm());
  });

  app.post(`${OAUTH_PATHS.authorize}/consent`, async (c) => {
    const form = await c.req.parseBody();
    const s = (k: string) => (typeof form[k] === 'string' ? form[k] : undefined);
    const client = core.oauth.apps.get(s('clientId') ?? '');
    const redirectUri = s('redirectUri') ?? '';
    if (!client || !core.oauth.redirectAllowed(client, redirectUri)) {
      return c.html(errorPage('Error', BAD_REDIRECT), 400);
    }
    const req: AuthorizeRequest = {
      clientId: client.clientId,
      redirectUri,
      scope: s('scope') ?? '',
      state: s('state'),
      challenge: s('challenge'),
      method: s('method'),
    };
    if (s('decision') !== 'approve')
      return redirect(c, redirectUri, { error: 'access_denied', state: req.state });
    const realmId = s('realmId');
    return approve(c, req, realmId && core.realms.get(realmId) ? realmId : defaultRealm());
  });
}
