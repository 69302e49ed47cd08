import { type TokenApiCaller, type TokenApiOperation, tokenApiOperations } from './callers.js';
import { createTokenServiceClient, type TokenServiceClient } from './client.js';
import type { StoreCredentialsRequest } from './contract.js';

/** What Intuit grants: an access token for an hour, a refresh token for 101 days (`x_refresh_token_expires_in`). */
const ACCESS_TOKEN_MS = 3_600_000;
const REFRESH_TOKEN_MS = 8_726_400_000;

export interface Grant {
  realmId: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * The store request auth-service sends for a grant it has just obtained, for tests and benchmarks that hand
 * a grant from the simulator to the token-service themselves.
 */
export function storeRequestFor(
  grant: Grant,
  {
    orgId,
    now = Date.now(),
    scopes = ['com.intuit.quickbooks.accounting'],
  }: { orgId: string; now?: number; scopes?: string[] },
): StoreCredentialsRequest {
  return {
    orgId,
    realmId: grant.realmId,
    environment: 'sandbox',
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    accessTokenExpiresAt: new Date(now + ACCESS_TOKEN_MS).toISOString(),
    refreshTokenExpiresAt: new Date(now + REFRESH_TOKEN_MS).toISOString(),
    scopes,
  };
}

/**
 * One client that presents, for each operation, the credential of a caller the contract allows it: what
 * auth-service and sync-service do between them, for tests that play both (store a grant, then read it).
 */
export function clientAsCallers(
  baseUrl: string,
  credentials: Partial<Record<TokenApiCaller, string>>,
  timeoutMs?: number,
): TokenServiceClient {
  const as = (operation: TokenApiOperation) => {
    const allowed: readonly TokenApiCaller[] = tokenApiOperations[operation].callers;
    const caller = allowed.find((c) => credentials[c] !== undefined);
    const secret = caller && credentials[caller];
    if (!secret) throw new Error(`no credential given for a caller allowed ${operation}`);
    return createTokenServiceClient({
      baseUrl,
      credential: () => secret,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  };
  const lazy = <K extends keyof TokenServiceClient>(
    operation: TokenApiOperation,
    method: K,
  ): TokenServiceClient[K] =>
    ((...args: unknown[]) =>
      (as(operation)[method] as (...a: unknown[]) => unknown)(...args)) as TokenServiceClient[K];
  return {
    storeCredentials: lazy('store', 'storeCredentials'),
    getAccessToken: lazy('accessToken', 'getAccessToken'),
    refreshAfterRejection: lazy('refresh', 'refreshAfterRejection'),
    status: lazy('status', 'status'),
    revoke: lazy('revoke', 'revoke'),
  };
}
