import { classifyTokenAnswer, type TokenAnswer } from '../domain/token-response.js';

export interface TokenEndpoint {
  refresh(refreshToken: string): Promise<TokenAnswer>;
  /** Whether Intuit confirmed the revocation (200), and if not, why: a status or a transport failure only. */
  revoke(token: string): Promise<RevokeOutcome>;
}

/** What came of a revoke call; never the answer's body, which may echo the token. */
export type RevokeOutcome =
  | { ok: true }
  | { ok: false; cause: 'status'; status: number }
  | { ok: false; cause: 'timeout' | 'network' };

export interface TokenEndpointOptions {
  tokenUrl: string;
  revokeUrl: string;
  clientId: string;
  clientSecret: () => string;
  timeoutMs: number;
}

/**
 * Intuit's token and revoke endpoints over plain fetch (see the README for why not intuit-oauth): one
 * deadline per call, the hard-expiry header on every refresh, and failures reduced to a classification. No
 * error from here carries a body or a request, since either may hold a token.
 */
export function createTokenEndpoint({
  tokenUrl,
  revokeUrl,
  clientId,
  clientSecret,
  timeoutMs,
}: TokenEndpointOptions): TokenEndpoint {
  const basic = () =>
    `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret())}`).toString('base64')}`;

  return {
    async refresh(refreshToken) {
      let res: Response;
      try {
        res = await fetch(tokenUrl, {
          method: 'POST',
          headers: {
            authorization: basic(),
            accept: 'application/json',
            'content-type': 'application/x-www-form-urlencoded',
            'x-include-refresh-token-hard-expires-in': 'true',
          },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        return {
          ok: false,
          outcome: timedOut
            ? { ok: false, kind: 'transient', cause: 'timeout', code: 'timeout' }
            : { ok: false, kind: 'transient', cause: 'network', code: 'network' },
        };
      }
      let body: unknown;
      try {
        const text = await res.text();
        body = text === '' ? undefined : JSON.parse(text);
      } catch (err) {
        if (err instanceof Error && err.name === 'TimeoutError') {
          return { ok: false, outcome: { ok: false, kind: 'transient', cause: 'timeout', code: 'timeout' } };
        }
        body = undefined; // Intuit's HTML error pages
      }
      return classifyTokenAnswer(res.status, body);
    },

    async revoke(token) {
      try {
        const res = await fetch(revokeUrl, {
          method: 'POST',
          headers: { authorization: basic(), accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify({ token }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        return res.status === 200 ? { ok: true } : { ok: false, cause: 'status', status: res.status };
      } catch (err) {
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        return { ok: false, cause: timedOut ? 'timeout' : 'network' };
      }
    },
  };
}
