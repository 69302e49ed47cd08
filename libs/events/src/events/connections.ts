import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, realmId, timestamp } from '../fields.js';
import { topics } from '../topics.js';

const environment = z.enum(['sandbox', 'production']);

export const ConnectionEstablished = defineEvent({
  type: 'ConnectionEstablished',
  version: 1,
  topic: topics.connections,
  description: 'An org connected a QuickBooks company for the first time (auth-service).',
  data: z.object({
    connectionId,
    realmId,
    environment,
    /** OAuth scopes granted, e.g. `com.intuit.quickbooks.accounting`. */
    scopes: z.array(z.string().max(200)).min(1),
    connectedAt: timestamp,
    /** The platform user who connected it, when the platform says. */
    connectedBy: z.string().max(128).optional(),
  }),
});

export const ConnectionReauthorized = defineEvent({
  type: 'ConnectionReauthorized',
  version: 1,
  topic: topics.connections,
  description:
    'An org reconnected the same realm, e.g. after a deactivation; credentials are new (auth-service).',
  data: z.object({
    connectionId,
    realmId,
    environment,
    scopes: z.array(z.string().max(200)).min(1),
    reauthorizedAt: timestamp,
    /** The status the connection had before, e.g. `deactivated`. */
    previousStatus: z.enum(['active', 'degraded', 'deactivated', 'disconnected']),
    connectedBy: z.string().max(128).optional(),
  }),
});

export const ConnectionDisconnected = defineEvent({
  type: 'ConnectionDisconnected',
  version: 1,
  topic: topics.connections,
  description:
    'An org disconnected a realm; consumers stop work and token-service shreds credentials (auth-service).',
  data: z.object({
    connectionId,
    realmId,
    reason: z.enum(['user_requested', 'operator', 'revoked_at_intuit']),
    /** Whether Intuit confirmed the revocation; false when it could not be reached or the grant was already dead. */
    revokedAtIntuit: z.boolean(),
    disconnectedAt: timestamp,
  }),
});

/**
 * A security audit fact: connect attempts refused. Carries what was refused and why, never the state, code or
 * cookie. On its own topic, so unauthenticated refusals cannot crowd the connection lifecycle's partitions,
 * and sampled: per stage, reason and org, the first few of a window are written one by one and the rest as one
 * summary with `count` (messages written before the move stay on `qbo.connections.v1` and read the same).
 */
export const ConnectAttemptRejected = defineEvent({
  type: 'ConnectAttemptRejected',
  version: 1,
  topic: topics.connectionsAudit,
  description: 'A connect initiation or OAuth callback was refused (security audit; auth-service).',
  data: z.object({
    stage: z.enum(['initiate', 'callback']),
    reason: z.enum([
      'state_missing',
      'state_unknown',
      'state_expired',
      'state_reused',
      'cookie_mismatch',
      'provider_error',
      'return_to_not_allowed',
      'realm_owned_by_other_org',
      'rate_limited',
      'unauthenticated',
      /** A valid credential naming an org id the platform reserves (`_unknown`). */
      'org_reserved',
      /** The connection was disconnected while a reconnect was completing; the new grant was revoked. */
      'connection_disconnected_meanwhile',
    ]),
    /** Intuit's `error` parameter on the callback, e.g. `access_denied`. */
    providerError: z.string().max(64).optional(),
    /** A keyed hash of the client address: lets audits correlate attempts without storing addresses. */
    clientFingerprint: z.string().max(128).optional(),
    /** The origin of a refused `returnTo`, for allowlist reviews. */
    returnToOrigin: z.string().max(300).optional(),
    /** The refusals this event stands for: absent for one, more on a window's summary. */
    count: z.int().min(2).optional(),
    /** On a summary, the first of its refusals; `rejectedAt` is then the last. */
    firstRejectedAt: timestamp.optional(),
    rejectedAt: timestamp,
  }),
});
