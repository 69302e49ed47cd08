import { z } from 'zod';

/**
 * Field types shared by the event schemas. Each carries its constraint once, so every event that names an
 * org, a realm or a time means the same thing by it.
 */

/** The platform's org id: opaque, but restricted to characters that are safe as a Kafka key and in logs. */
export const orgId = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/, 'must be a platform org id');

/**
 * The org of input that belongs to no known org yet: a webhook of an unknown realm, an OAuth callback with a
 * forged state. Such events are keyed by realm or spread, never merged into a real org's stream.
 */
export const UNKNOWN_ORG = '_unknown';

/** Intuit's company id (`realmId`): a decimal string. */
export const realmId = z.string().regex(/^\d{1,32}$/, 'must be an Intuit realm id (digits)');

/** A connection of one org to one realm, as registered by auth-service. */
export const connectionId = z.uuid();

/** RFC 3339 with an offset; Intuit's timestamps keep theirs (e.g. `-07:00`). */
export const timestamp = z.iso.datetime({ offset: true });

/** A QuickBooks entity name (`Customer`, `Invoice`, …); new entities need no schema change. */
export const entityName = z.string().regex(/^[A-Z][A-Za-z]{1,63}$/, 'must be a QuickBooks entity name');

/** Intuit's entity id (`Id`): a string of digits in practice, opaque to us. */
export const entityId = z.string().min(1).max(64);

/** A UTC instant (`…Z`): source times converted from Intuit's offsets, so they compare as strings. */
export const utcInstant = z.iso.datetime();

/**
 * A per-org sequence number of the change feed: contiguous, assigned in the writing transaction, as a decimal
 * string zero-padded to 20 digits so it orders as a string too (CloudEvents `sequence`).
 */
export const seq = z.string().regex(/^\d{20}$/, 'must be a sequence number (20 digits)');

/** Intuit's optimistic-concurrency version of an entity (`SyncToken`). */
export const syncToken = z.string().regex(/^\d{1,20}$/, 'must be a SyncToken (digits)');

/** Error classes shared by the services; `@qbo/qbo-client` files every Intuit failure under one of these. */
export const errorCategory = z.enum([
  'auth',
  'permission',
  'rate_limit',
  'validation',
  'not_found',
  'conflict',
  'server',
  'network',
  'timeout',
  'internal',
]);

/** An error described by class and code only: never a message or body, which may echo a secret. */
export const errorSummary = z.object({
  category: errorCategory,
  /** Intuit's fault code or our own error code, e.g. `6240`, `invalid_grant`, `stale_object`. */
  code: z.string().max(64),
  retryable: z.boolean(),
  entityType: entityName.optional(),
  entityId: entityId.optional(),
  /** What an operator can do about it, written by us, never copied from upstream. */
  remediation: z.string().max(500).optional(),
});
