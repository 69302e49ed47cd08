import type { AccessTokenResponse, TokenServiceClient } from '@qbo/token-api';
import { TokenServiceError } from '@qbo/token-api';

type TokenApi = Pick<TokenServiceClient, 'getAccessToken' | 'refreshAfterRejection'>;

interface Held {
  realmId: string;
  accessToken: string;
  version: number;
}

/** The token-service's access-token API in memory, with its compare-and-refresh rule, for unit tests. */
export interface FakeTokenApi extends TokenApi {
  /** Every request, in order: `get <connection>` (`get(120s) …` with a minimum validity) or `refresh <connection>`. */
  readonly requests: string[];
  /** Refreshes actually performed (a compare that found a newer token performs none). */
  readonly refreshes: number;
  hold(connectionId: string, realmId: string, accessToken: string): void;
  /** Every later request for the connection fails with this. */
  fail(connectionId: string, error: TokenServiceError): void;
  /** Requests wait until `release()`, so concurrent callers pile up as they would on a slow network. */
  pause(): { release(): void };
}

export function createFakeTokenApi(): FakeTokenApi {
  const held = new Map<string, Held>();
  const failures = new Map<string, TokenServiceError>();
  const requests: string[] = [];
  let refreshes = 0;
  let gate: Promise<void> = Promise.resolve();

  async function answer(connectionId: string, kind: string, rejected?: string): Promise<AccessTokenResponse> {
    requests.push(`${kind} ${connectionId}`);
    await gate;
    const failure = failures.get(connectionId);
    if (failure) throw failure;
    const h = held.get(connectionId);
    if (!h) throw new TokenServiceError('connection_not_found', 'token-service: 404 connection_not_found');
    if (rejected !== undefined && h.accessToken === rejected) {
      refreshes++;
      h.version++;
      h.accessToken = `access-${connectionId}-v${h.version}`;
    }
    return {
      connectionId,
      realmId: h.realmId,
      accessToken: h.accessToken,
      accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      credentialVersion: h.version,
    };
  }

  return {
    requests,
    get refreshes() {
      return refreshes;
    },
    hold: (connectionId, realmId, accessToken) =>
      held.set(connectionId, { realmId, accessToken, version: 1 }),
    fail: (connectionId, error) => failures.set(connectionId, error),
    pause() {
      let release = () => {};
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return { release };
    },
    getAccessToken: (connectionId, options) =>
      answer(connectionId, options?.minValiditySeconds ? `get(${options.minValiditySeconds}s)` : 'get'),
    refreshAfterRejection: (connectionId, rejected) => answer(connectionId, 'refresh', rejected),
  };
}
