import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { DROPPED, injectFaults } from '../faults.js';
import { sendJson } from '../respond.js';
import { OAUTH_PATHS } from './discovery.js';

/** Reads `{"token": …}` (intuit-oauth, PHP SDK) or form-encoded `token=…` (node-quickbooks). */
async function tokenOf(text: string, contentType: string | undefined): Promise<string | undefined> {
  if (contentType?.includes('json')) {
    try {
      const body = JSON.parse(text) as { token?: unknown };
      return typeof body.token === 'string' ? body.token : undefined;
    } catch {
      return undefined;
    }
  }
  return new URLSearchParams(text).get('token') ?? undefined;
}

/** `POST /v2/oauth2/tokens/revoke`: either token ends the grant; 200 with an empty body, 400 for an unknown token (§1.6). */
export function revokeRoute(app: Hono, core: Core, signal: AbortSignal): void {
  app.post(OAUTH_PATHS.revoke, async (c) => {
    const text = await c.req.text();
    const injected = await injectFaults(c, core, 'oauth', undefined, 'revoke', signal);
    if (injected) {
      core.counters.record(undefined, 'revoke', injected.headers.has(DROPPED) ? 'dropped' : injected.status);
      return injected;
    }
    const client = core.oauth.authenticateClient(c.req.header('authorization'), new URLSearchParams());
    if (!client) {
      core.counters.record(undefined, 'revoke', 401);
      return sendJson(c, 401, '{"error":"invalid_client"}');
    }
    const token = await tokenOf(text, c.req.header('content-type'));
    if (!token) {
      core.counters.record(undefined, 'revoke', 400);
      return sendJson(c, 400, '{"error":"invalid_request"}');
    }
    // An unknown token (or another app's) is a failure, answered 400 as Intuit does (§1.6).
    if (!core.oauth.revoke(client, token)) {
      core.counters.record(undefined, 'revoke', 400);
      return sendJson(c, 400, '{"error":"invalid_token","error_description":"Token invalid"}');
    }
    core.counters.record(undefined, 'revoke', 200);
    return c.body(null, 200);
  });
}
