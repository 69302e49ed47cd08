import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'hono';
import type { Core } from '../core.js';
import { faults } from '../domain/fault.js';
import type { FaultKind } from '../faults/fault-rules.js';
import {
  BAD_GATEWAY_HTML,
  GATEWAY_TIMEOUT_HTML,
  PAYLOAD_TOO_LARGE_HTML,
  sendFault,
  sendJson,
  sendThrottled,
  UNAVAILABLE_HTML,
} from './respond.js';

export type Surface = 'api' | 'oauth';

/** Faults that are answers of the token endpoint, and stand for "the next refresh fails" there. */
export const OAUTH_ERRORS: ReadonlySet<FaultKind> = new Set([
  'invalid_grant',
  'invalid_client',
  'invalid_request',
]);

/** Marks a request whose connection was cut on purpose, so counters can tell it apart. */
export const DROPPED = 'x-sim-dropped';

/**
 * Applies the armed faults for one request: waits the injected latency (cut at the request timeout, as
 * Intuit cuts at 120 s), then answers the fault or returns undefined to let the request through.
 */
export async function injectFaults(
  c: Context,
  core: Core,
  surface: Surface,
  realmId: string | undefined,
  endpoint: string,
  signal: AbortSignal,
  allowed?: (kind: FaultKind) => boolean,
): Promise<Response | undefined> {
  // The OAuth errors are token-endpoint answers; an API request matched by a broad rule ignores them.
  const permitted = (kind: FaultKind) =>
    !(surface === 'api' && OAUTH_ERRORS.has(kind)) && (allowed?.(kind) ?? true);
  const plan = core.faults.plan(realmId, endpoint, permitted);
  const timeout = plan.outcome === 'timeout' || plan.latencyMs >= core.requestTimeoutMs;
  const wait = timeout ? core.requestTimeoutMs : plan.latencyMs;
  if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
  if (timeout) return c.html(GATEWAY_TIMEOUT_HTML, 504);
  const now = core.clock.now();
  switch (plan.outcome) {
    case undefined:
    case 'timeout':
      return undefined;
    case 'drop': {
      c.env?.incoming?.socket.destroy();
      c.header(DROPPED, '1');
      return c.body(null, 500);
    }
    case '413':
      return c.html(PAYLOAD_TOO_LARGE_HTML, 413);
    case '502':
      return c.html(BAD_GATEWAY_HTML, 502);
    case '503':
      return c.html(UNAVAILABLE_HTML, 503);
    case '504':
      return c.html(GATEWAY_TIMEOUT_HTML, 504);
    case '429':
      return surface === 'api'
        ? sendThrottled(c, now, core.policies.throttleFormat)
        : sendJson(c, 429, '{"error":"rate_limit_exceeded"}');
    case '500':
      return surface === 'api'
        ? sendFault(c, faults.systemError(), now)
        : sendJson(c, 500, '{"error":"server_error"}');
    case 'invalid_grant':
      return sendJson(
        c,
        400,
        '{"error":"invalid_grant","error_description":"Incorrect or invalid refresh token"}',
      );
    case 'invalid_client':
      return sendJson(c, 401, '{"error":"invalid_client"}');
    case 'invalid_request':
      return sendJson(c, 400, '{"error":"invalid_request"}');
  }
}
