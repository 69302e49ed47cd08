import type { Outcome } from './refresh-health.js';

/** What a refresh-token grant at Intuit's token endpoint came to, classified without I/O. */
export type TokenAnswer =
  | {
      ok: true;
      accessToken: string;
      refreshToken: string;
      expiresInSeconds: number;
      refreshExpiresInSeconds: number;
      /** Present when Intuit was asked for it (`x-include-refresh-token-hard-expires-in`). */
      hardExpiresInSeconds?: number;
    }
  | { ok: false; outcome: Exclude<Outcome, { ok: true }> };

type Failure = Extract<TokenAnswer, { ok: false }>;

const transient = (
  cause: 'intuit_unavailable' | 'rate_limited' | 'timeout' | 'network',
  code: string,
): Failure => ({ ok: false, outcome: { ok: false, kind: 'transient', cause, code } });

/**
 * Classifies an HTTP answer of the token endpoint (qbo-api-facts §1.4): `invalid_grant` is the grant's
 * death (after the caller's fallback), `invalid_client` is the app's credentials (confirmed before refreshing
 * pauses, see `strikeApp`), and everything else (a 401 without `invalid_client`, `invalid_request` and other
 * request errors, 5xx, 429, HTML error pages, unreadable bodies) fails this refresh only, which is retried
 * with backoff. Only error codes travel on; bodies may echo tokens.
 */
export function classifyTokenAnswer(status: number, body: unknown): TokenAnswer {
  const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (status === 200) {
    const { access_token, refresh_token, expires_in, x_refresh_token_expires_in } = json;
    const hard = json.x_refresh_token_hard_expires_in;
    if (
      typeof access_token !== 'string' ||
      access_token === '' ||
      typeof refresh_token !== 'string' ||
      refresh_token === '' ||
      typeof expires_in !== 'number' ||
      typeof x_refresh_token_expires_in !== 'number'
    ) {
      return transient('intuit_unavailable', 'bad_response');
    }
    return {
      ok: true,
      accessToken: access_token,
      refreshToken: refresh_token,
      expiresInSeconds: expires_in,
      refreshExpiresInSeconds: x_refresh_token_expires_in,
      ...(typeof hard === 'number' ? { hardExpiresInSeconds: hard } : {}),
    };
  }
  const error = typeof json.error === 'string' ? json.error : undefined;
  if (error === 'invalid_grant') {
    return {
      ok: false,
      outcome: { ok: false, kind: 'grant_rejected', reason: 'invalid_grant', code: error },
    };
  }
  // Only Intuit's own word that the app's credentials are wrong counts against the whole app; a bare 401 (a
  // proxy, a glitch) or a request-shape error is this refresh's problem and is retried with backoff.
  if (error === 'invalid_client') {
    return { ok: false, outcome: { ok: false, kind: 'app_rejected', code: 'invalid_client' } };
  }
  if (
    error === 'invalid_request' ||
    error === 'unauthorized_client' ||
    error === 'unsupported_grant_type' ||
    error === 'invalid_scope'
  ) {
    return transient('intuit_unavailable', error);
  }
  if (status === 429) return transient('rate_limited', '429');
  return transient('intuit_unavailable', String(status));
}
