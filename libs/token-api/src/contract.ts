import { z } from 'zod';

/**
 * The token-service's internal API: the only way QuickBooks credentials cross a service boundary. Every
 * request carries `Authorization: Bearer <service credential>` of a caller allowed the operation
 * (`tokenApiOperations` in callers.ts); every error is a problem+json body with a
 * `code` from `tokenApiErrorCodes`. Tokens appear in exactly two places: the store request (auth-service →
 * token-service) and the access-token responses (token-service → sync). Nothing else, no error body included,
 * ever carries one.
 */

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');
const isoTime = z.iso.datetime({ offset: true });
const token = z.string().min(1).max(4096);

export const paths = {
  credentials: (connectionId: string) =>
    `/internal/connections/${encodeURIComponent(connectionId)}/credentials`,
  accessToken: (connectionId: string) =>
    `/internal/connections/${encodeURIComponent(connectionId)}/access-token`,
  refresh: (connectionId: string) =>
    `/internal/connections/${encodeURIComponent(connectionId)}/access-token/refresh`,
  status: (connectionId: string) => `/internal/connections/${encodeURIComponent(connectionId)}/status`,
  revoke: (connectionId: string) => `/internal/connections/${encodeURIComponent(connectionId)}/revoke`,
} as const;

/** Route templates for servers (Hono syntax), next to the client's builders above. */
export const routes = {
  credentials: '/internal/connections/:connectionId/credentials',
  accessToken: '/internal/connections/:connectionId/access-token',
  refresh: '/internal/connections/:connectionId/access-token/refresh',
  status: '/internal/connections/:connectionId/status',
  revoke: '/internal/connections/:connectionId/revoke',
} as const;

export const connectionIdParam = id;

/**
 * `PUT credentials`: store the tokens of a fresh grant (connect or reconnect). Idempotent by connection id:
 * repeating a request with the same refresh token changes nothing and answers the same version; a new grant
 * for the same connection replaces the old one, bumps the version and resets the connection's health.
 */
export const storeCredentialsRequest = z.strictObject({
  orgId: id,
  realmId: z.string().regex(/^\d{1,32}$/, 'a realm id is digits'),
  environment: z.enum(['sandbox', 'production']),
  accessToken: token,
  refreshToken: token,
  accessTokenExpiresAt: isoTime,
  refreshTokenExpiresAt: isoTime,
  scopes: z.array(z.string().min(1).max(200)).min(1).max(20),
});
export type StoreCredentialsRequest = z.infer<typeof storeCredentialsRequest>;

export const connectionHealth = z.enum(['active', 'degraded', 'deactivated', 'disconnected']);
export type ConnectionHealth = z.infer<typeof connectionHealth>;

export const storeCredentialsResponse = z.object({
  connectionId: id,
  credentialVersion: z.number().int().positive(),
  /** False when the request repeated the stored grant (a retry): nothing changed. */
  changed: z.boolean(),
});
export type StoreCredentialsResponse = z.infer<typeof storeCredentialsResponse>;

/** `GET access-token?minValiditySeconds=N`: a token valid for at least N seconds (refreshed first if needed). */
export const accessTokenResponse = z.object({
  connectionId: id,
  realmId: z.string(),
  accessToken: token,
  accessTokenExpiresAt: isoTime,
  credentialVersion: z.number().int().positive(),
});
export type AccessTokenResponse = z.infer<typeof accessTokenResponse>;

/**
 * `POST access-token/refresh`: compare-and-refresh. When the current token is no longer `rejectedAccessToken`
 * (someone refreshed already) it is returned as is; otherwise one refresh runs, however many callers ask. A
 * connection is force-refreshed at most once per throttle window (the token-service's
 * `TOKEN_FORCED_REFRESH_INTERVAL_MS`): presenting the current token again within it answers 429
 * `refresh_throttled` with `Retry-After`, so a caller cannot make the token-service call Intuit at will.
 */
export const refreshRequest = z.strictObject({ rejectedAccessToken: token });
export type RefreshRequest = z.infer<typeof refreshRequest>;

/** `GET status`: what the connection's credentials are doing, with no secret in it. */
export const credentialStatus = z.object({
  connectionId: id,
  orgId: id,
  realmId: z.string(),
  status: connectionHealth,
  credentialVersion: z.number().int().nonnegative(),
  accessTokenExpiresAt: isoTime.nullable(),
  refreshTokenExpiresAt: isoTime.nullable(),
  lastRefreshedAt: isoTime.nullable(),
  nextRefreshAt: isoTime.nullable(),
  degradedSince: isoTime.nullable(),
  deactivationReason: z.enum(['invalid_grant', 'refresh_token_expired', 'revoked']).nullable(),
});
export type CredentialStatus = z.infer<typeof credentialStatus>;

/**
 * `POST revoke`: revoke the grant at Intuit now (before a disconnect is announced). `revokedAtIntuit` is false
 * when Intuit could not be reached or the grant was already dead; the credentials are shredded when the
 * `ConnectionDisconnected` event arrives, whatever this answered.
 */
export const revokeResponse = z.object({ connectionId: id, revokedAtIntuit: z.boolean() });
export type RevokeResponse = z.infer<typeof revokeResponse>;

export const tokenApiErrorCodes = [
  /** Missing or wrong service credential (401). */
  'unauthenticated',
  /** A known caller asked for an operation the contract does not give it (403); see `tokenApiOperations`. */
  'caller_not_permitted',
  /** A body, parameter or path that breaks the contract (400). */
  'invalid_request',
  /** A request body over the size limit (413). */
  'payload_too_large',
  /** No credentials for this connection (404). */
  'connection_not_found',
  /** The connection belongs to another org or realm than the request says (409). */
  'connection_conflict',
  /** The grant is dead; the org must reconnect (409). */
  'reauthorization_required',
  /** The grant was revoked for a disconnect; the credentials are shredded once the disconnect is announced (410). */
  'connection_disconnected',
  /** Intuit is failing transiently; retry after `Retry-After` (503). */
  'refresh_unavailable',
  /**
   * A compare-and-refresh of a token issued moments ago (or refreshed on request moments ago) is not forced
   * again: retry after `Retry-After` (429), by which time Intuit has the token or the window has passed.
   */
  'refresh_throttled',
  /** Intuit confirmed it rejects the app's own credentials; refreshing is paused and probed until they work (503). */
  'app_credentials_rejected',
  /** Anything else (500). */
  'internal_error',
] as const;
export type TokenApiErrorCode = (typeof tokenApiErrorCodes)[number];

export const problemBody = z.object({
  type: z.string().optional(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
});
