import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import {
  connectionId,
  entityId,
  entityName,
  realmId,
  seq,
  syncToken,
  timestamp,
  utcInstant,
} from '../fields.js';
import { topics } from '../topics.js';

/** Where a change was seen, and the record's version there. */
const source = z.object({
  /** `purge`: the record left with its company's data (a disconnect's grace period ended, or an erasure). */
  origin: z.enum(['query', 'cdc', 'webhook', 'reconcile', 'push', 'purge']),
  runId: z.uuid().optional(),
  syncToken: syncToken.optional(),
  /** Intuit's `MetaData.LastUpdatedTime`, converted to UTC. */
  lastUpdatedTime: utcInstant.optional(),
  webhookEventId: z.string().min(1).max(128).optional(),
});

/** What every record event names: the record, and its place in the org's feed. */
const recordRef = { connectionId, realmId, entity: entityName, entityId, seq, source };

/** The latest state of a record: shared by RecordUpserted (the log) and RecordState (the compacted topic). */
const stateShape = {
  ...recordRef,
  /** Name-list entities are deactivated, never deleted: `Active: false` arrives as an upsert. */
  active: z.boolean().optional(),
  /** A voided transaction is an update, never a delete. */
  voided: z.boolean(),
  /** sha-256 of the canonical payload: unchanged content produces no event. */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Set when a load or reconciliation run emitted the event; records unseen in a completed generation are gone. */
  snapshot: z.object({ runId: z.uuid(), generation: z.number().int().min(1) }).optional(),
  /** The entity as Intuit returned it… */
  after: z.record(z.string(), z.unknown()).optional(),
  /** …or, when it would not fit the topic's message limit, its size; the mirror keeps the payload. */
  payloadOmitted: z.object({ reason: z.literal('too_large'), bytes: z.number().int().positive() }).optional(),
};

const onePayload = (d: { after?: unknown; payloadOmitted?: unknown }) =>
  (d.after === undefined) !== (d.payloadOmitted === undefined);
const onePayloadIssue = { message: 'exactly one of after and payloadOmitted', path: ['after'] };

export const RecordUpserted = defineEvent({
  type: 'RecordUpserted',
  version: 1,
  topic: topics.records,
  description:
    'A mirrored QuickBooks record was created, changed or read by a load; carries the full payload (sync-service).',
  data: z
    .object({
      ...stateShape,
      /** `c` first sighting, `u` a change, `r` emitted by a load or reconciliation run. */
      op: z.enum(['c', 'u', 'r']),
      reason: z.enum(['deactivated', 'reactivated', 'voided', 'merged_survivor', 'reconcile']).optional(),
    })
    .refine(onePayload, onePayloadIssue),
});

export const RecordDeleted = defineEvent({
  type: 'RecordDeleted',
  version: 1,
  topic: topics.records,
  description:
    'A mirrored record is gone: deleted or merged away in QuickBooks, found missing, or its realm detached (sync-service).',
  data: z.object({
    ...recordRef,
    op: z.literal('d'),
    reason: z.enum(['deleted', 'merged', 'reconcile', 'realm_detached']),
    /** For a merge: the record that absorbed this one. */
    mergedInto: entityId.optional(),
    /** When Intuit reports it (CDC), otherwise when we detected it. */
    deletedAt: timestamp,
  }),
});

const snapshotShape = {
  connectionId,
  realmId,
  seq,
  runId: z.uuid(),
  generation: z.number().int().min(1),
  mode: z.enum(['initial', 'resync', 'reconcile']),
  entities: z.array(entityName).min(1),
};

export const RecordSnapshotStarted = defineEvent({
  type: 'RecordSnapshotStarted',
  version: 1,
  topic: topics.records,
  description: 'A load or reconciliation run began emitting `r` events of a new generation (sync-service).',
  data: z.object(snapshotShape),
});

export const RecordSnapshotCompleted = defineEvent({
  type: 'RecordSnapshotCompleted',
  version: 1,
  topic: topics.records,
  description:
    'A load or reconciliation run finished its generation: records not seen in it are deleted (sync-service).',
  data: z.object({
    ...snapshotShape,
    counts: z.object({ records: z.number().int().nonnegative(), deleted: z.number().int().nonnegative() }),
    completedAt: timestamp,
  }),
});

export const RecordState = defineEvent({
  type: 'RecordState',
  version: 1,
  topic: topics.recordsState,
  description:
    'The latest state of one record, on the compacted state topic; a delete leaves a tombstone (sync-service).',
  data: z.object(stateShape).refine(onePayload, onePayloadIssue),
});
