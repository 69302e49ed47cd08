import { at, connectionId, invoice, orgId, realmId, runId, type SampleInputs, snapshot } from './shared.js';

/** Samples of the change feed: record events, snapshot markers and the compacted state. */
export const recordSamples = {
  RecordUpserted: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      entity: 'Customer',
      entityId: '58',
      seq: '00000000000000000042',
      source: { origin: 'cdc', runId, syncToken: '3', lastUpdatedTime: '2026-11-25T10:00:00Z' },
      op: 'u',
      reason: 'deactivated',
      active: false,
      voided: false,
      contentHash: 'a'.repeat(64),
      after: { Id: '58', SyncToken: '3', DisplayName: 'Amy’s Bird Sanctuary', Active: false },
    },
  },
  RecordDeleted: {
    orgId,
    realmId,
    data: {
      ...invoice,
      entityId: '130',
      seq: '00000000000000000043',
      source: { origin: 'cdc', runId },
      op: 'd',
      reason: 'deleted',
      deletedAt: at,
    },
  },
  RecordSnapshotStarted: { orgId, realmId, data: { ...snapshot, seq: '00000000000000000001' } },
  RecordSnapshotCompleted: {
    orgId,
    realmId,
    data: { ...snapshot, seq: '00000000000000000041', counts: { records: 39, deleted: 0 }, completedAt: at },
  },
  RecordState: {
    orgId,
    realmId,
    data: {
      ...invoice,
      entityId: '131',
      seq: '00000000000000000007',
      source: { origin: 'query', runId, syncToken: '0', lastUpdatedTime: '2026-11-24T18:30:00Z' },
      voided: false,
      contentHash: 'b'.repeat(64),
      snapshot: { runId, generation: 1 },
      payloadOmitted: { reason: 'too_large', bytes: 2_400_000 },
    },
  },
} satisfies Partial<SampleInputs>;
