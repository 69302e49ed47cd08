import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import {
  connectionId,
  entityId,
  entityName,
  errorSummary,
  realmId,
  seq,
  syncToken,
  timestamp,
} from '../fields.js';
import { topics } from '../topics.js';

const syncRunId = z.uuid();
const mode = z.enum(['initial', 'cdc', 'query', 'reconciliation']);

export const SyncStarted = defineEvent({
  type: 'SyncStarted',
  version: 1,
  topic: topics.syncRuns,
  description: 'A sync run began for one connection (sync-service).',
  data: z.object({
    syncRunId,
    connectionId,
    trigger: z.enum(['connection', 'schedule', 'webhook', 'command', 'resume']),
    mode,
    entities: z.array(entityName).min(1),
    startedAt: timestamp,
  }),
});

const counts = z.object({
  upserted: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
});

export const SyncCompleted = defineEvent({
  type: 'SyncCompleted',
  version: 1,
  topic: topics.syncRuns,
  description: 'A sync run finished; counts and API calls used (sync-service).',
  data: z.object({
    syncRunId,
    connectionId,
    mode,
    startedAt: timestamp,
    completedAt: timestamp,
    counts,
    apiCalls: z.number().int().nonnegative(),
    /** Items that failed alone and can be retried alone. */
    failedItems: z.number().int().nonnegative(),
  }),
});

export const SyncFailed = defineEvent({
  type: 'SyncFailed',
  version: 1,
  topic: topics.syncRuns,
  description:
    'A sync run stopped on an error; resumes from its last checkpoint when retried (sync-service).',
  data: z.object({
    syncRunId,
    connectionId,
    mode,
    startedAt: timestamp,
    failedAt: timestamp,
    error: errorSummary,
    attempts: z.number().int().positive(),
    willRetry: z.boolean(),
    counts,
  }),
});

/** The outcome of an `UpsertRecord`/`DeleteRecord` command: the command's envelope id is `commandId`. */
export const RecordPushed = defineEvent({
  type: 'RecordPushed',
  version: 1,
  topic: topics.syncRuns,
  description: 'A push command was applied in QuickBooks (sync-service).',
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    entity: entityName,
    entityId,
    operation: z.enum(['create', 'update', 'delete']),
    /** What QuickBooks did: a delete of a name-list record deactivates it, of a transaction deletes or voids it. */
    applied: z.enum(['created', 'updated', 'deleted', 'voided', 'deactivated']).optional(),
    /** The change-feed sequence number of the record event the push wrote, when the mirror changed. */
    seq: seq.optional(),
    /** The SyncToken after the write. */
    syncToken: syncToken.optional(),
    /** Intuit's `requestid` used, so a replay of the command is recognised. */
    requestId: z.string().min(1).max(64),
    pushedAt: timestamp,
  }),
});

export const RecordPushFailed = defineEvent({
  type: 'RecordPushFailed',
  version: 1,
  topic: topics.syncRuns,
  description:
    'A push command was refused or failed; a stale SyncToken is a conflict, never overwritten (sync-service).',
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    entity: entityName,
    entityId: entityId.optional(),
    error: errorSummary,
    /** For a conflict: the SyncToken QuickBooks holds now. */
    currentSyncToken: syncToken.optional(),
    /** For a conflict: the record as QuickBooks holds it now, for the caller to merge and send again. */
    currentRecord: z.record(z.string(), z.unknown()).optional(),
    /** For a validation failure: the field QuickBooks (or the check before any call) named. */
    field: z.string().max(200).optional(),
    failedAt: timestamp,
  }),
});

/**
 * The outcome of retrying one failed record (`RetrySyncError`, or one of a `RetryRunErrors`): `resolved` when
 * the record was read and its row closed, `failed` with the error when Intuit still refused it,
 * `already_resolved` when a later read had fixed it (no call made), `not_found` when no open error row of
 * that connection has the id, `moved` when a record known only by its place is no longer there (the next
 * delta reads it where it went).
 */
export const SyncErrorRetried = defineEvent({
  type: 'SyncErrorRetried',
  version: 1,
  topic: topics.syncRuns,
  description:
    'A failed record was retried on command: `resolved`, `failed` (with the error), `already_resolved`, `not_found`, `moved` (sync-service).',
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    errorId: z.uuid(),
    outcome: z.enum(['resolved', 'failed', 'already_resolved', 'not_found', 'moved']),
    entity: entityName.optional(),
    entityId: entityId.optional(),
    /** Calls to Intuit this retry made. */
    apiCalls: z.number().int().nonnegative(),
    error: errorSummary.optional(),
    retriedAt: timestamp,
  }),
});

/** The outcome of a `RetryRunErrors`: how many of the run's open retryable failures were retried and fixed. */
export const RunErrorsRetried = defineEvent({
  type: 'RunErrorsRetried',
  version: 1,
  topic: topics.syncRuns,
  description: 'Every retryable failed record of a sync run was retried on command; counts (sync-service).',
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    syncRunId,
    retried: z.number().int().nonnegative(),
    resolved: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    apiCalls: z.number().int().nonnegative(),
    retriedAt: timestamp,
  }),
});

/**
 * A connection's sync has failed `consecutiveFailures` runs in a row (the threshold the service is configured
 * with): an alert for the org's operators, emitted once per streak, when the count reaches the threshold.
 */
export const ConnectionSyncFailing = defineEvent({
  type: 'ConnectionSyncFailing',
  version: 1,
  topic: topics.syncRuns,
  description:
    "A connection's sync failed N runs in a row (the service's threshold); once per streak, to alert the org (sync-service).",
  data: z.object({
    connectionId,
    realmId,
    consecutiveFailures: z.number().int().positive(),
    lastSyncRunId: syncRunId,
    lastError: errorSummary,
    /** Whether the schedule keeps trying by itself (false for an auth failure: the org must reconnect). */
    willRetry: z.boolean(),
    failedAt: timestamp,
  }),
});

/**
 * The answer to a `RequestSync` (its envelope id is `commandId`): `accepted` when the run is due now;
 * otherwise nothing was recorded, and the outcome says why: `not_found` (no company of the command's org has the
 * connection), `inactive` (disconnected or deactivated: the org must reconnect), `paused` (resume first),
 * `unknown_entity` (an entity the company does not sync: `entities` lists them), `invalid` (an incremental sync
 * names entities: CDC covers the company).
 */
export const SyncRequested = defineEvent({
  type: 'SyncRequested',
  version: 1,
  topic: topics.syncRuns,
  description:
    'A sync command was answered: `accepted`, or refused as `not_found`, `inactive`, `paused`, `unknown_entity`, `invalid` (sync-service).',
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    outcome: z.enum(['accepted', 'not_found', 'inactive', 'paused', 'unknown_entity', 'invalid']),
    mode: z.enum(['incremental', 'full', 'reconciliation']),
    /** The entities asked for (all the company's when absent); for `unknown_entity`, the unknown ones. */
    entities: z.array(entityName).min(1).optional(),
    answeredAt: timestamp,
  }),
});

/**
 * The answer to a `PauseSync`: `paused` (from now, or `already_paused` since `pausedAt`), or `not_found` when
 * no company of the command's org has the connection (nothing changed).
 */
export const SyncPaused = defineEvent({
  type: 'SyncPaused',
  version: 1,
  topic: topics.syncRuns,
  description:
    "A pause command was answered: `paused`, `already_paused`, or `not_found` (not the org's connection) (sync-service).",
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    outcome: z.enum(['paused', 'already_paused', 'not_found']),
    pausedAt: timestamp.optional(),
    answeredAt: timestamp,
  }),
});

/**
 * The answer to a `ResumeSync`: `resumed` (a delta is due at once), `not_paused` (nothing to do), or
 * `not_found` when no company of the command's org has the connection (nothing changed).
 */
export const SyncResumed = defineEvent({
  type: 'SyncResumed',
  version: 1,
  topic: topics.syncRuns,
  description:
    "A resume command was answered: `resumed` (a delta at once), `not_paused`, or `not_found` (not the org's connection) (sync-service).",
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    outcome: z.enum(['resumed', 'not_paused', 'not_found']),
    answeredAt: timestamp,
  }),
});

/**
 * The answer to a `SetSyncInterval`: `set` with the interval now in force (`intervalMs`, the service's
 * default when `isDefault`), `out_of_range` with the bounds the service holds it to (nothing changed), or
 * `not_found` when no company of the command's org has the connection (nothing changed).
 */
export const SyncIntervalChanged = defineEvent({
  type: 'SyncIntervalChanged',
  version: 1,
  topic: topics.syncRuns,
  description:
    "A sync interval command was answered: `set`, `out_of_range` (with the bounds), or `not_found` (not the org's connection) (sync-service).",
  data: z.object({
    commandId: z.uuid(),
    connectionId,
    outcome: z.enum(['set', 'out_of_range', 'not_found']),
    /** For `set`: the interval in force now. */
    intervalMs: z.number().int().positive().optional(),
    isDefault: z.boolean().optional(),
    /** For `out_of_range`: what the service allows. */
    minIntervalMs: z.number().int().positive().optional(),
    maxIntervalMs: z.number().int().positive().optional(),
    answeredAt: timestamp,
  }),
});
