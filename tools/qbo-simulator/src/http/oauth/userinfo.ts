import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { sendJson } from '../respond.js';
import { OAUTH_PATHS } from './discovery.js';

/** `GET /v1/openid_connect/userinfo`: camelCase claims, needs the `openid` scope (§1.6). */
export function userInfoRoute(app: Hono, core: Core): void {
  app.get(OAUTH_PATHS.userinfo, (c) => {
    const auth = core.oauth.authenticate(c.req.header('authorization'), core.clock.now());
    if (!auth.ok) {
      core.counters.record(undefined, 'userinfo', 401);
      c.header('www-authenticate', 'Bearer realm="Intuit", error="invalid_token"');
      return sendJson(c, 401, '{"error":"invalid_token"}');
    }
    const { grant } = auth.token;
    core.counters.record(grant.realmId, 'userinfo', grant.scopes.includes('openid') ? 200 : 403);
    if (!grant.scopes.includes('openid')) return sendJson(c, 403, '{"error":"insufficient_scope"}');
    const has = (scope: string) => grant.scopes.includes(scope);
    return c.json({
      sub: grant.sub,
      ...(has('email') ? { email: `user-${grant.sub.slice(0, 8)}@example.com`, emailVerified: true } : {}),
      ...(has('profile') ? { givenName: 'Test', familyName: 'User' } : {}),
      ...(has('phone') ? { phoneNumber: '+16505550100', phoneNumberVerified: true } : {}),
      ...(has('address')
        ? {
            address: {
              streetAddress: '2700 Coast Ave',
              locality: 'Mountain View',
              region: 'CA',
              postalCode: '94043',
              country: 'US',
            },
          }
        : {}),
    });
  });
}
