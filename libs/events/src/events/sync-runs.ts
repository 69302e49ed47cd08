import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, entityId, entityName, errorSummary, syncToken, timestamp } from '../fields.js';
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
    failedAt: timestamp,
  }),
});
