import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, entityId, entityName, syncToken, timestamp } from '../fields.js';
import { topics } from '../topics.js';

const detectedBy = z.enum(['initial_load', 'cdc', 'query', 'webhook', 'reconciliation', 'push']);

/**
 * A record changed in QuickBooks (created, updated, deactivated or voided: all are upserts of the latest
 * state). Consumers apply it only when `syncToken`/`lastUpdatedTime` is newer than what they hold.
 */
export const RecordUpserted = defineEvent({
  type: 'RecordUpserted',
  version: 1,
  topic: topics.records,
  description:
    'A mirrored QuickBooks record was created or changed; carries the full payload (sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId,
    syncToken,
    /** Intuit's `MetaData.LastUpdatedTime`, with Intuit's offset. */
    lastUpdatedTime: timestamp,
    /** Name-list entities are deactivated, never deleted: `Active: false` arrives as an upsert. */
    active: z.boolean().optional(),
    /** sha-256 of the canonical payload: unchanged content produces no event. */
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** The entity as Intuit returned it. */
    payload: z.record(z.string(), z.unknown()),
    detectedBy,
    syncRunId: z.uuid().optional(),
  }),
});

export const RecordDeleted = defineEvent({
  type: 'RecordDeleted',
  version: 1,
  topic: topics.records,
  description:
    'A mirrored transaction was deleted, or a name-list record merged away, in QuickBooks (sync-service).',
  data: z.object({
    connectionId,
    entity: entityName,
    entityId,
    deletion: z.enum(['deleted', 'merged']),
    /** For a merge: the record that absorbed this one. */
    mergedIntoId: entityId.optional(),
    /** The last version we held, when we held one. */
    syncToken: syncToken.optional(),
    /** When Intuit reports it (CDC), otherwise when we detected it. */
    deletedAt: timestamp,
    detectedBy,
    syncRunId: z.uuid().optional(),
  }),
});
