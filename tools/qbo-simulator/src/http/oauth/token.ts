import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { DROPPED, injectFaults, OAUTH_ERRORS } from '../faults.js';
import { sendJson } from '../respond.js';
import { OAUTH_PATHS } from './discovery.js';

/**
 * `POST /oauth2/v1/tokens/bearer` for `authorization_code` and `refresh_token`, client authenticated by
 * HTTP Basic or form fields; errors are flat OAuth JSON, never a Fault (qbo-api-facts §1.4).
 */
export function tokenRoute(app: Hono, core: Core, signal: AbortSignal): void {
  app.post(OAUTH_PATHS.token, async (c) => {
    const form = new URLSearchParams(await c.req.text());
    const realmId = core.oauth.realmOfTokenRequest(form);
    const refreshing = form.get('grant_type') === 'refresh_token';
    const record = (status: number | 'dropped') => core.counters.record(realmId, 'token', status);
    // OAuth error faults stand for "the next refresh fails"; a code exchange is not a refresh.
    const injected = await injectFaults(c, core, 'oauth', realmId, 'token', signal, (kind) =>
      OAUTH_ERRORS.has(kind) ? refreshing : true,
    );
    if (injected) {
      record(injected.headers.has(DROPPED) ? 'dropped' : injected.status);
      return injected;
    }
    const client = core.oauth.authenticateClient(c.req.header('authorization'), form);
    if (!client) {
      record(401);
      return sendJson(c, 401, '{"error":"invalid_client"}');
    }
    const includeHard = c.req.header('x-include-refresh-token-hard-expires-in')?.toLowerCase() === 'true';
    const result = core.oauth.token(client, form, includeHard, core.clock.now());
    const status = result.ok ? 200 : result.status;
    record(status);
    c.header('cache-control', 'no-store');
    return sendJson(c, status, JSON.stringify(result.body));
  });
}
