import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { ISSUER } from '../../oauth/id-token.js';

export const OAUTH_PATHS = {
  authorize: '/connect/oauth2',
  token: '/oauth2/v1/tokens/bearer',
  revoke: '/v2/oauth2/tokens/revoke',
  userinfo: '/v1/openid_connect/userinfo',
  jwks: '/op/v1/jwks',
} as const;

/**
 * The OpenID discovery document (qbo-api-facts §1.1) with this simulator's URLs, at every spelling
 * clients use: underscores or hyphens, sandbox or production, with or without a trailing slash. The issuer
 * stays Intuit's, because intuit-oauth compares it verbatim.
 */
export function discoveryRoutes(app: Hono, core: Core): void {
  const document = () => {
    const base = core.baseUrl();
    return {
      issuer: ISSUER,
      authorization_endpoint: `${base}${OAUTH_PATHS.authorize}`,
      token_endpoint: `${base}${OAUTH_PATHS.token}`,
      userinfo_endpoint: `${base}${OAUTH_PATHS.userinfo}`,
      revocation_endpoint: `${base}${OAUTH_PATHS.revoke}`,
      jwks_uri: `${base}${OAUTH_PATHS.jwks}`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile', 'address', 'phone'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['aud', 'exp', 'iat', 'iss', 'realmid', 'sub'],
    };
  };
  for (const name of [
    'openid_sandbox_configuration',
    'openid_configuration',
    'openid-sandbox-configuration',
    'openid-configuration',
  ]) {
    app.get(`/.well-known/${name}`, (c) => c.json(document()));
    app.get(`/.well-known/${name}/`, (c) => c.json(document()));
  }
  app.get(OAUTH_PATHS.jwks, (c) => {
    core.counters.record(undefined, 'jwks', 200);
    return c.json(core.oauth.jwks());
  });
}
