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
