import type { MiddlewareHandler } from 'hono';
import type { Core } from '../core.js';
import { faults } from '../domain/fault.js';
import type { ApiEnv } from './env.js';
import { DROPPED, injectFaults } from './faults.js';
import { sendFault, sendThrottled, sendUnauthorized } from './respond.js';

/** The endpoint name counters and faults use, from the path after `/v3/company/{realmId}/`. */
export function apiEndpoint(method: string, rest: string): string {
  const [first = '', second, third] = rest.split('/');
  const head = first.toLowerCase();
  if (head === 'query' || head === 'cdc' || head === 'batch' || head === 'companyinfo') return head;
  if (method === 'GET' && third === 'pdf') return 'pdf';
  if (method === 'GET' && second !== undefined) return 'read';
  return 'write';
}

const UNAUTHORIZED_DETAIL = {
  missing: () => 'Malformed bearer token: too short or too long',
  malformed: () => 'Malformed bearer token: too short or too long',
  unknown: () => 'Token invalid',
  expired: (handle: string | undefined) => `Token expired: ${handle ?? ''}`,
  revoked: (handle: string | undefined) => `Token revoked: ${handle ?? ''}`,
} as const;

/**
 * Everything in front of an Accounting API route, in Intuit's order: the bearer token (401 gateway body),
 * the token's realm (403), the realm's limits (429, no rate-limit headers), injected faults, then the
 * route. Every request is counted with its final status.
 */
export function apiGuard(core: Core, signal: AbortSignal): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const realmId = c.req.param('realmId') as string;
    const rest = c.req.path.slice(c.req.path.indexOf(realmId) + realmId.length + 1);
    const endpoint = apiEndpoint(c.req.method, rest);
    let status: number | 'dropped' = 500;
    try {
      const now = core.clock.now();
      const auth = core.oauth.authenticate(c.req.header('authorization'), now);
      if (!auth.ok) {
        status = 401;
        return sendUnauthorized(c, UNAUTHORIZED_DETAIL[auth.reason](auth.handle), Date.now());
      }
      const company = core.realms.get(realmId);
      if (!company || auth.token.grant.realmId !== realmId) {
        status = 403;
        return sendFault(c, faults.forbidden(), now);
      }
      const clientId = auth.token.grant.clientId;
      const admission = core.limiter.admit(realmId, clientId, endpoint === 'batch', now);
      if (!admission.ok) {
        core.counters.throttled(realmId, endpoint, admission.reason);
        status = 429;
        return sendThrottled(c, now, core.policies.throttleFormat);
      }
      try {
        // Injected latency is time spent processing: the request holds its in-flight slot meanwhile.
        const injected = await injectFaults(c, core, 'api', realmId, endpoint, signal);
        if (injected) {
          status = injected.headers.has(DROPPED) ? 'dropped' : injected.status;
          return injected;
        }
        c.set('company', company);
        c.set('clientId', clientId);
        await next();
        status = c.res.status;
        return undefined;
      } finally {
        admission.release();
      }
    } finally {
      core.counters.record(realmId, endpoint, status);
    }
  };
}
