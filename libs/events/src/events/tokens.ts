import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, realmId, timestamp } from '../fields.js';
import { topics } from '../topics.js';

/** Why a refresh failed transiently: Intuit or the path to it, never the grant. */
const transientCause = z.enum(['intuit_unavailable', 'rate_limited', 'timeout', 'network']);

export const TokenRotated = defineEvent({
  type: 'TokenRotated',
  version: 1,
  topic: topics.tokens,
  description:
    'Credentials were refreshed and durably stored; carries versions and expiries only, no token (token-service).',
  data: z.object({
    connectionId,
    realmId,
    /** Monotonic per connection: a consumer ignores a version lower than one it has seen. */
    credentialVersion: z.number().int().positive(),
    accessTokenExpiresAt: timestamp,
    refreshTokenExpiresAt: timestamp,
    /** Whether Intuit issued a new refresh token this time (it rotates roughly daily). */
    refreshTokenRotated: z.boolean(),
    rotatedAt: timestamp,
  }),
});

export const ConnectionDegraded = defineEvent({
  type: 'ConnectionDegraded',
  version: 1,
  topic: topics.tokens,
  description:
    'Refreshes are failing for a transient cause; retrying with backoff, not deactivated (token-service).',
  data: z.object({
    connectionId,
    realmId,
    cause: transientCause,
    attempts: z.number().int().positive(),
    /** HTTP status or Intuit error code of the last attempt, e.g. `503`. */
    lastErrorCode: z.string().max(64).optional(),
    degradedSince: timestamp,
    nextAttemptAt: timestamp.optional(),
  }),
});

export const ConnectionRecovered = defineEvent({
  type: 'ConnectionRecovered',
  version: 1,
  topic: topics.tokens,
  description: 'A degraded connection refreshed successfully again (token-service).',
  data: z.object({
    connectionId,
    realmId,
    degradedSince: timestamp,
    attempts: z.number().int().positive(),
    recoveredAt: timestamp,
  }),
});

export const ConnectionDeactivated = defineEvent({
  type: 'ConnectionDeactivated',
  version: 1,
  topic: topics.tokens,
  description:
    'The grant is dead (e.g. invalid_grant after the fallback); no more attempts until reconnect (token-service).',
  data: z.object({
    connectionId,
    realmId,
    reason: z.enum(['invalid_grant', 'refresh_token_expired', 'revoked']),
    attempts: z.number().int().positive(),
    lastErrorCode: z.string().max(64).optional(),
    deactivatedAt: timestamp,
  }),
});

export const ReauthorizationRequired = defineEvent({
  type: 'ReauthorizationRequired',
  version: 1,
  topic: topics.tokens,
  description: 'The org must reconnect the realm; for notifications and the status view (token-service).',
  data: z.object({
    connectionId,
    realmId,
    reason: z.enum(['invalid_grant', 'refresh_token_expired', 'revoked']),
    requiredSince: timestamp,
  }),
});

export const ReconnectSoon = defineEvent({
  type: 'ReconnectSoon',
  version: 1,
  topic: topics.tokens,
  description:
    "The refresh token's hard expiry (or the 5-year cap) is near; ask the org to reconnect (token-service).",
  data: z.object({
    connectionId,
    realmId,
    refreshTokenExpiresAt: timestamp,
    daysLeft: z.number().int().nonnegative(),
  }),
});

/**
 * An app-level alert: Intuit refused the app's own credentials (`invalid_client`), so no refresh can work.
 * Refreshing stops for the app; no connection is deactivated for it. Keyed by the org whose refresh met it.
 */
export const AppCredentialsRejected = defineEvent({
  type: 'AppCredentialsRejected',
  version: 1,
  topic: topics.tokens,
  description:
    'Intuit rejected the app credentials (invalid_client); refreshes paused for the app, an operator must act (token-service).',
  data: z.object({
    /** The connection whose refresh met the error. */
    connectionId,
    errorCode: z.enum(['invalid_client', 'unauthorized_client', 'invalid_configuration']),
    schedulerPaused: z.boolean(),
    detectedAt: timestamp,
  }),
});
