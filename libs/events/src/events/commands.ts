import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, entityId, entityName, syncToken } from '../fields.js';
import { topics } from '../topics.js';

/**
 * Write a record to QuickBooks. Without `entityId` it creates; with it, it updates and needs the
 * `syncToken` the caller last saw (optimistic concurrency). Version 1 let the caller choose Intuit's
 * `requestId`; version 2 derives it from the command's id (see `UpsertRecordV1`'s upcaster).
 */
export const UpsertRecordV1 = defineEvent({
  type: 'UpsertRecord',
  version: 1,
  topic: topics.commands,
  description: 'Command: create or update a record in QuickBooks (to sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId: entityId.optional(),
    syncToken: syncToken.optional(),
    /** Sparse update: only the given fields change. */
    sparse: z.boolean(),
    requestId: z.string().min(1).max(64),
    payload: z.record(z.string(), z.unknown()),
  }),
});

export const DeleteRecordV1 = defineEvent({
  type: 'DeleteRecord',
  version: 1,
  topic: topics.commands,
  description:
    'Command: delete (or void, or deactivate, as the entity allows) a record in QuickBooks (to sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId,
    syncToken,
    requestId: z.string().min(1).max(64),
  }),
});

/**
 * Write a record to QuickBooks: create without `entityId`, update with it and the `syncToken` the caller last
 * saw. The command's id is its idempotency key: Intuit's `requestid` is derived from it, so the same command
 * delivered again never writes twice. The outcome is a `RecordPushed` or a `RecordPushFailed`.
 */
export const UpsertRecord = defineEvent({
  type: 'UpsertRecord',
  version: 2,
  topic: topics.commands,
  description:
    'Command: create or update a record in QuickBooks; the command id is its idempotency key (to sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId: entityId.optional(),
    syncToken: syncToken.optional(),
    /** Sparse update: only the given fields change. */
    sparse: z.boolean(),
    payload: z.record(z.string(), z.unknown()),
  }),
});

/**
 * Remove a record the way its entity allows: a transaction is deleted (or voided when `void` is asked and the
 * entity can be voided), a name-list record is made inactive. `RecordPushed.applied` says which happened.
 */
export const DeleteRecord = defineEvent({
  type: 'DeleteRecord',
  version: 2,
  topic: topics.commands,
  description:
    'Command: delete, void or deactivate a record in QuickBooks, as its entity allows; the command id is its idempotency key (to sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId,
    syncToken,
    /** Void instead of delete (Invoice, Payment, SalesReceipt, BillPayment). */
    void: z.boolean().optional(),
  }),
});

export const RequestSync = defineEvent({
  type: 'RequestSync',
  version: 1,
  topic: topics.commands,
  description: 'Command: run a sync for a connection now (to sync-service).',
  data: z.object({
    connectionId,
    mode: z.enum(['incremental', 'full', 'reconciliation']),
    /** All entities when absent. */
    entities: z.array(entityName).min(1).optional(),
    reason: z.string().max(200).optional(),
  }),
});

/**
 * Retry one record the sync could not read (a `sync_error` row): one read of it at Intuit, its event if it
 * changed, and the row closed when it succeeds. The outcome is a `SyncErrorRetried`.
 */
export const RetrySyncError = defineEvent({
  type: 'RetrySyncError',
  version: 1,
  topic: topics.commands,
  description: "Command: retry one failed record of a connection's sync (to sync-service).",
  data: z.object({
    connectionId,
    errorId: z.uuid(),
    reason: z.string().max(200).optional(),
  }),
});

/** Retry every open, retryable failed record of one sync run; outcomes are `SyncErrorRetried` each, then `RunErrorsRetried`. */
export const RetryRunErrors = defineEvent({
  type: 'RetryRunErrors',
  version: 1,
  topic: topics.commands,
  description: 'Command: retry every retryable failed record of one sync run (to sync-service).',
  data: z.object({
    connectionId,
    syncRunId: z.uuid(),
    reason: z.string().max(200).optional(),
  }),
});

/**
 * Stop syncing a connection's company: no further call to Intuit for it until a `ResumeSync`. Notifications
 * and commands still arrive and are kept. The outcome is a `SyncPaused`.
 */
export const PauseSync = defineEvent({
  type: 'PauseSync',
  version: 1,
  topic: topics.commands,
  description: "Command: pause a connection's syncing, no call to Intuit until resumed (to sync-service).",
  data: z.object({
    connectionId,
    reason: z.string().max(200).optional(),
  }),
});

/** End a pause: the company is due at once, and one delta catches up. The outcome is a `SyncResumed`. */
export const ResumeSync = defineEvent({
  type: 'ResumeSync',
  version: 1,
  topic: topics.commands,
  description: "Command: resume a paused connection's syncing, a delta at once (to sync-service).",
  data: z.object({
    connectionId,
    reason: z.string().max(200).optional(),
  }),
});

/**
 * Set a connection's own interval between deltas, or `null` for the service's default. The service holds it
 * to its floor and ceiling (`SYNC_MIN_INTERVAL_MS`, `SYNC_MAX_INTERVAL_MS`) as its HTTP API does. The outcome
 * is a `SyncIntervalChanged`.
 */
export const SetSyncInterval = defineEvent({
  type: 'SetSyncInterval',
  version: 1,
  topic: topics.commands,
  description:
    "Command: set a connection's interval between deltas, or null for the default (to sync-service).",
  data: z.object({
    connectionId,
    intervalMs: z.number().int().positive().nullable(),
    reason: z.string().max(200).optional(),
  }),
});
