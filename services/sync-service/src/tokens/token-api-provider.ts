import { QboError, type TokenProvider } from '@qbo/qbo-client';
import { type AccessTokenResponse, type TokenServiceClient, TokenServiceError } from '@qbo/token-api';
import { tokenServiceFailure } from './token-errors.js';

/**
 * The connection that currently holds a realm (the connections projection), or undefined when none does.
 * A realm has at most one live connection: auth-service refuses a second owner until the first disconnects.
 */
export type ConnectionOfRealm = (realmId: string) => string | undefined | Promise<string | undefined>;

export interface TokenApiProviderOptions {
  tokens: Pick<TokenServiceClient, 'getAccessToken' | 'refreshAfterRejection'>;
  connectionOf: ConnectionOfRealm;
  /** Asked of every token handed out (the token-service refreshes first when it expires sooner). */
  minValiditySeconds?: number;
}

/**
 * QuickBooks access tokens from the token-service, which alone holds the grants: a token per call, and on
 * Intuit's 401 a compare-and-refresh there. Callers in this process rejected with the same token share one
 * refresh request; across replicas, the token-service's own compare-and-refresh makes it one refresh at Intuit.
 */
export function createTokenApiProvider({
  tokens,
  connectionOf,
  minValiditySeconds,
}: TokenApiProviderOptions): TokenProvider {
  const refreshing = new Map<string, Promise<string>>();
  const options = minValiditySeconds === undefined ? {} : { minValiditySeconds };

  async function tokenFor(
    realmId: string,
    ask: (connectionId: string) => Promise<AccessTokenResponse>,
  ): Promise<string> {
    const connectionId = await connectionHolding(connectionOf, realmId);
    let answer: AccessTokenResponse;
    try {
      answer = await ask(connectionId);
    } catch (err) {
      throw err instanceof TokenServiceError ? tokenServiceFailure(err, realmId) : err;
    }
    // A token for another company would be refused by Intuit (403) only after it was sent there.
    if (answer.realmId !== realmId) {
      throw new QboError({
        category: 'auth',
        code: 'connection_realm_mismatch',
        message: `connection ${connectionId} holds realm ${answer.realmId}, not realm ${realmId}`,
        attempts: 0,
      });
    }
    return answer.accessToken;
  }

  return {
    getAccessToken: (realmId) => tokenFor(realmId, (id) => tokens.getAccessToken(id, options)),
    refreshAfterRejection(realmId, rejectedToken) {
      const key = `${realmId}\n${rejectedToken}`;
      let flight = refreshing.get(key);
      if (!flight) {
        flight = tokenFor(realmId, (id) => tokens.refreshAfterRejection(id, rejectedToken)).finally(() =>
          refreshing.delete(key),
        );
        refreshing.set(key, flight);
      }
      return flight;
    },
  };
}

async function connectionHolding(connectionOf: ConnectionOfRealm, realmId: string): Promise<string> {
  let connectionId: string | undefined;
  try {
    connectionId = await connectionOf(realmId);
  } catch (err) {
    throw new QboError(
      {
        category: 'network',
        code: 'connection_lookup_failed',
        message: `the connection of realm ${realmId} could not be looked up`,
        attempts: 0,
      },
      { cause: err },
    );
  }
  if (connectionId === undefined) {
    throw new QboError({
      category: 'auth',
      code: 'realm_not_connected',
      message: `no live connection holds realm ${realmId}`,
      attempts: 0,
    });
  }
  return connectionId;
}
