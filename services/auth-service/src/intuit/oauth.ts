import { AppError, isAppError } from '@qbo/service-kit';
import OAuthClient from 'intuit-oauth';
import { decodeJwt } from 'jose';

export interface IntuitOAuthOptions {
  clientId: string;
  clientSecret: string;
  environment: 'sandbox' | 'production';
  redirectUri: string;
  scopes: readonly string[];
  /** Intuit's OAuth endpoints at another host, at Intuit's own paths (the simulator). */
  baseUrl?: string;
}

export interface ExchangedGrant {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  refreshTokenExpiresAt: string;
}

/**
 * A failed code exchange or revoke, described by Intuit's error code only. intuit-oauth's own errors carry the
 * request (with the code) and the response; none of that may reach a log.
 */
export class ExchangeError extends AppError {
  constructor(code: string) {
    super(code, `code exchange failed: ${code}`, { status: 502 });
    this.name = 'ExchangeError';
  }
}

/** Intuit's error code of a failed exchange or revoke, or the fallback for anything else. */
export const exchangeErrorCode = (err: unknown, fallback: string): string =>
  isAppError(err) && err.name === 'ExchangeError' ? err.code : fallback;

export interface IntuitOAuth {
  authorizeUrl(state: string, codeChallenge?: string): string;
  exchange(input: {
    code: string;
    state: string;
    realmId: string;
    codeVerifier?: string;
  }): Promise<ExchangedGrant>;
  /** Revokes a grant at Intuit by its refresh token; throws an ExchangeError (code only) when Intuit refuses. */
  revoke(refreshToken: string): Promise<void>;
}

export function createIntuitOAuth(o: IntuitOAuthOptions): IntuitOAuth {
  const client = () => {
    const c = new OAuthClient({
      clientId: o.clientId,
      clientSecret: o.clientSecret,
      environment: o.environment,
      redirectUri: o.redirectUri,
      logging: false,
    });
    if (o.baseUrl) {
      const base = o.baseUrl.replace(/\/+$/, '');
      // The endpoints are static fields of the library's class: one process talks to one Intuit.
      c.setAuthorizeURLs({
        authorizeEndpoint: `${base}/connect/oauth2`,
        tokenEndpoint: `${base}/oauth2/v1/tokens/bearer`,
        revokeEndpoint: `${base}/v2/oauth2/tokens/revoke`,
        userInfoEndpoint: `${base}/v1/openid_connect/userinfo`,
      });
      OAuthClient.jwks_uri = `${base}/op/v1/jwks`;
    }
    return c;
  };
  client();

  return {
    authorizeUrl(state, codeChallenge) {
      const url = new URL(client().authorizeUri({ scope: [...o.scopes], state }));
      if (codeChallenge) {
        url.searchParams.set('code_challenge', codeChallenge);
        url.searchParams.set('code_challenge_method', 'S256');
      }
      return url.href;
    },
    async exchange({ code, state, realmId, codeVerifier }) {
      const c = client();
      if (codeVerifier) {
        // intuit-oauth has no PKCE option; the verifier joins the form body of the one token request.
        const send = c.getTokenRequest.bind(c);
        c.getTokenRequest = (request: { data: Record<string, string> }) =>
          send({ ...request, data: { ...request.data, code_verifier: codeVerifier } });
      }
      const callback = `${o.redirectUri}?${new URLSearchParams({ code, state, realmId })}`;
      const issuedAt = Date.now();
      let issued: { refresh_token?: string } | undefined;
      try {
        const response = await c.createToken(callback);
        const t = response.getToken();
        issued = t;
        if (!t.access_token || !t.refresh_token) throw new ExchangeError('incomplete_token_response');
        await verifyRealm(c, t.id_token, realmId);
        return {
          accessToken: t.access_token,
          refreshToken: t.refresh_token,
          accessTokenExpiresAt: new Date(issuedAt + (t.expires_in ?? 3600) * 1000).toISOString(),
          refreshTokenExpiresAt: new Date(
            issuedAt + (t.x_refresh_token_expires_in ?? 8_726_400) * 1000,
          ).toISOString(),
        };
      } catch (err) {
        // A grant Intuit issued but we refuse would otherwise live on at Intuit with nobody holding it.
        // The refresh token, when there is one: revoking it ends the whole grant, whatever the access token's age.
        if (issued)
          await c
            .revoke(issued.refresh_token ? { refresh_token: issued.refresh_token } : undefined)
            .catch(() => undefined);
        if (isAppError(err) && err.name === 'ExchangeError') throw err;
        throw new ExchangeError(errorCodeOf(err, 'exchange_failed'));
      }
    },
    async revoke(refreshToken) {
      try {
        await client().revoke({ refresh_token: refreshToken });
      } catch (err) {
        throw new ExchangeError(errorCodeOf(err, 'revoke_failed'));
      }
    },
  };
}

/** Intuit's error code when it is a short identifier; intuit-oauth's errors carry the request otherwise. */
const errorCodeOf = (err: unknown, fallback: string): string => {
  const e = err as { error?: unknown } | undefined;
  return typeof e?.error === 'string' && /^[a-z_]{1,64}$/.test(e.error) ? e.error : fallback;
};

/**
 * The callback's `realmId` is a query parameter anyone can edit, and intuit-oauth copies it as is. Intuit's ID
 * token (the config requires the `openid` scope) names the company the grant is for: a callback naming another
 * realm, or a missing or invalid ID token, is refused (and the grant revoked by the caller), so an org cannot
 * register a realm it did not authorise.
 */
async function verifyRealm(c: OAuthClient, idToken: string | undefined, realmId: string): Promise<void> {
  if (!idToken) throw new ExchangeError('id_token_missing');
  const valid = await c.validateIdToken().catch(() => false);
  if (!valid) throw new ExchangeError('invalid_id_token');
  if (decodeJwt(idToken).realmid !== realmId) throw new ExchangeError('realm_mismatch');
}
