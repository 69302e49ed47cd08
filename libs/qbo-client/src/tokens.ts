/**
 * Where the client gets access tokens, keyed by realm: a realm has at most one live connection, so the realm
 * says whose grant to use. sync-service implements it over the token-service's internal API; the client
 * never sees a refresh token. A provider that fails throws: a QboError passes through as it is (a provider
 * that cannot reach the token service throws one with category `network`); any other error becomes an
 * `auth` QboError carrying the error's `code` (e.g. `invalid_grant`) and none of its message.
 */
export interface TokenProvider {
  /** A current access token for the realm. */
  getAccessToken(realmId: string): Promise<string>;
  /**
   * Called once when Intuit answered 401 to `rejectedToken`. Compare-and-refresh: when the current token
   * already differs from the rejected one (another caller refreshed it), return the current one without
   * refreshing, so a hundred callers rejected together cause one refresh.
   */
  refreshAfterRejection(realmId: string, rejectedToken: string): Promise<string>;
}
