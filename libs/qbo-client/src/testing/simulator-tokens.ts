import type { TokenProvider } from '../tokens.js';

export interface SimulatorTokens {
  realmId: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * A token provider for tests that refreshes for real against the simulator's token endpoint, the way the
 * token service does: single-flight per realm, and compare-and-refresh so callers holding a token that was
 * already replaced get the new one without another refresh. With `compareAndRefresh: false` every
 * `refreshAfterRejection` sends its own refresh request, so the simulator's token-endpoint counter counts
 * the client's calls exactly.
 */
export function createSimulatorTokenProvider({
  url,
  clientId = 'sim-client-id',
  clientSecret = 'sim-client-secret',
  connections,
  compareAndRefresh = true,
}: {
  url: string;
  clientId?: string;
  clientSecret?: string;
  connections: SimulatorTokens[];
  compareAndRefresh?: boolean;
}): TokenProvider {
  const current = new Map(connections.map((c) => [c.realmId, { ...c }]));
  const inFlight = new Map<string, Promise<string>>();
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

  const connection = (realmId: string) => {
    const c = current.get(realmId);
    if (!c) throw Object.assign(new Error('no connection for this realm'), { code: 'not_connected' });
    return c;
  };

  async function refresh(realmId: string): Promise<string> {
    const c = connection(realmId);
    const response = await fetch(`${url}/oauth2/v1/tokens/bearer`, {
      method: 'POST',
      headers: {
        authorization: basic,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.refreshToken }),
    });
    const body = (await response.json()) as { access_token?: string; refresh_token?: string; error?: string };
    if (!response.ok || !body.access_token || !body.refresh_token) {
      throw Object.assign(new Error('token refresh failed'), { code: body.error ?? 'refresh_failed' });
    }
    c.accessToken = body.access_token;
    c.refreshToken = body.refresh_token;
    return c.accessToken;
  }

  return {
    async getAccessToken(realmId) {
      return connection(realmId).accessToken;
    },
    async refreshAfterRejection(realmId, rejectedToken) {
      if (!compareAndRefresh) return refresh(realmId);
      const running = inFlight.get(realmId);
      if (running) return running;
      const c = connection(realmId);
      if (c.accessToken !== rejectedToken) return c.accessToken;
      const next = refresh(realmId).finally(() => inFlight.delete(realmId));
      inFlight.set(realmId, next);
      return next;
    },
  };
}
