import type { CatalogDefinition, EventType } from '../catalog.js';
import type { EventInput } from '../define-event.js';
import { UNKNOWN_ORG } from '../fields.js';

type SampleInputs = { [T in EventType]: EventInput<Extract<CatalogDefinition, { type: T }>> };

const at = '2026-11-25T10:00:00.000Z';
const connectionId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const realmId = '9341453050298472';
const orgId = 'org-acme';
const runId = '0193a1b2-c3d4-7e5f-8a9b-00000000a001';
const commandId = '0193a1b2-c3d4-7e5f-8a9b-00000000c001';
/** The invoice the record samples name. */
const invoice = { connectionId, realmId, entity: 'Invoice' };
/** A load run's bracket: what its started and completed markers share. */
const snapshot = {
  connectionId,
  realmId,
  runId,
  generation: 1,
  mode: 'initial' as const,
  entities: ['Customer', 'Invoice'],
};

/**
 * A valid input for every event of the catalog, for tests and demos. `satisfies` keeps it complete: a new
 * event without a sample does not compile.
 */
export const sampleInputs = {
  ConnectionEstablished: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      connectedAt: at,
    },
  },
  ConnectionReauthorized: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      reauthorizedAt: at,
      previousStatus: 'deactivated',
    },
  },
  ConnectionDisconnected: {
    orgId,
    realmId,
    data: { connectionId, realmId, reason: 'user_requested', revokedAtIntuit: true, disconnectedAt: at },
  },
  ConnectAttemptRejected: {
    orgId: UNKNOWN_ORG,
    data: { stage: 'callback', reason: 'state_unknown', rejectedAt: at },
  },
  TokenRotated: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      credentialVersion: 7,
      accessTokenExpiresAt: '2026-11-25T11:00:00.000Z',
      refreshTokenExpiresAt: '2027-03-05T10:00:00.000Z',
      refreshTokenRotated: true,
      rotatedAt: at,
    },
  },
  ConnectionDegraded: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      cause: 'intuit_unavailable',
      attempts: 3,
      lastErrorCode: '503',
      degradedSince: at,
    },
  },
  ConnectionRecovered: {
    orgId,
    realmId,
    data: { connectionId, realmId, degradedSince: at, attempts: 5, recoveredAt: '2026-11-25T10:30:00.000Z' },
  },
  ConnectionDeactivated: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      reason: 'invalid_grant',
      attempts: 2,
      lastErrorCode: 'invalid_grant',
      deactivatedAt: at,
    },
  },
  ReauthorizationRequired: {
    orgId,
    realmId,
    data: { connectionId, realmId, reason: 'invalid_grant', requiredSince: at },
  },
  ReconnectSoon: {
    orgId,
    realmId,
    data: { connectionId, realmId, refreshTokenExpiresAt: '2026-12-05T10:00:00.000Z', daysLeft: 10 },
  },
  AppCredentialsRejected: {
    orgId,
    data: { connectionId, errorCode: 'invalid_client', schedulerPaused: true, detectedAt: at },
  },
  EntityChangeNotified: {
    orgId,
    realmId,
    data: {
      notificationId: 'b2f0c4e8-cloud-event-1',
      format: 'cloudevents',
      realmId,
      entity: 'Customer',
      entityId: '58',
      operation: 'Update',
      lastUpdated: '2026-11-25T02:00:00.000-08:00',
      receivedAt: at,
    },
  },
  WebhookParked: {
    orgId: UNKNOWN_ORG,
    realmId: '1234567890',
    data: {
      reason: 'unknown_realm',
      format: 'legacy',
      realmId: '1234567890',
      body: '{"realmId":"1234567890","dataChangeEvent":{"entities":[]}}',
      receivedAt: at,
    },
  },
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
  SyncStarted: {
    orgId,
    realmId,
    data: {
      syncRunId: runId,
      connectionId,
      trigger: 'schedule',
      mode: 'cdc',
      entities: ['Customer', 'Invoice'],
      startedAt: at,
    },
  },
  SyncCompleted: {
    orgId,
    realmId,
    data: {
      syncRunId: runId,
      connectionId,
      mode: 'cdc',
      startedAt: at,
      completedAt: '2026-11-25T10:00:05.000Z',
      counts: { upserted: 12, deleted: 1, unchanged: 40 },
      apiCalls: 3,
      failedItems: 0,
    },
  },
  SyncFailed: {
    orgId,
    realmId,
    data: {
      syncRunId: runId,
      connectionId,
      mode: 'query',
      startedAt: at,
      failedAt: '2026-11-25T10:01:00.000Z',
      error: {
        category: 'rate_limit',
        code: '003001',
        retryable: true,
        remediation: 'waits for the realm budget',
      },
      attempts: 4,
      willRetry: true,
      counts: { upserted: 100, deleted: 0, unchanged: 0 },
    },
  },
  RecordPushed: {
    orgId,
    realmId,
    data: {
      commandId,
      connectionId,
      entity: 'Customer',
      entityId: '58',
      operation: 'update',
      applied: 'updated',
      seq: '00000000000000000042',
      syncToken: '4',
      requestId: 'push-0001',
      pushedAt: at,
    },
  },
  RecordPushFailed: {
    orgId,
    realmId,
    data: {
      commandId,
      connectionId,
      entity: 'Customer',
      entityId: '58',
      error: { category: 'conflict', code: '5010', retryable: false, entityType: 'Customer', entityId: '58' },
      currentSyncToken: '5',
      currentRecord: { Id: '58', SyncToken: '5', DisplayName: 'Amy’s Bird Sanctuary' },
      failedAt: at,
    },
  },
  UpsertRecord: {
    orgId,
    realmId,
    data: {
      connectionId,
      entity: 'Customer',
      entityId: '58',
      syncToken: '3',
      sparse: true,
      payload: { DisplayName: 'Amy’s Bird Sanctuary Ltd' },
    },
  },
  DeleteRecord: {
    orgId,
    realmId,
    data: { connectionId, entity: 'Invoice', entityId: '130', syncToken: '2', void: true },
  },
  RequestSync: {
    orgId,
    realmId,
    data: { connectionId, mode: 'incremental', reason: 'operator retry' },
  },
  RetrySyncError: {
    orgId,
    realmId,
    data: {
      connectionId,
      errorId: '0193a1b2-c3d4-7e5f-8a9b-00000000e001',
      reason: 'email fixed in QuickBooks',
    },
  },
  RetryRunErrors: {
    orgId,
    realmId,
    data: { connectionId, syncRunId: runId },
  },
  SyncErrorRetried: {
    orgId,
    realmId,
    data: {
      commandId,
      connectionId,
      errorId: '0193a1b2-c3d4-7e5f-8a9b-00000000e001',
      outcome: 'resolved',
      entity: 'Customer',
      entityId: '58',
      apiCalls: 1,
      retriedAt: at,
    },
  },
  RunErrorsRetried: {
    orgId,
    realmId,
    data: {
      commandId,
      connectionId,
      syncRunId: runId,
      retried: 3,
      resolved: 2,
      failed: 1,
      apiCalls: 3,
      retriedAt: at,
    },
  },
  ConnectionSyncFailing: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      consecutiveFailures: 3,
      lastSyncRunId: runId,
      lastError: { category: 'server', code: '10000', retryable: true },
      willRetry: true,
      failedAt: at,
    },
  },
  PauseSync: {
    orgId,
    realmId,
    data: { connectionId, reason: 'month-end close' },
  },
  ResumeSync: {
    orgId,
    realmId,
    data: { connectionId },
  },
  SetSyncInterval: {
    orgId,
    realmId,
    data: { connectionId, intervalMs: 300_000, reason: 'busy season' },
  },
  SyncRequested: {
    orgId,
    realmId,
    data: {
      commandId,
      connectionId,
      outcome: 'accepted',
      mode: 'full',
      entities: ['Invoice'],
      answeredAt: at,
    },
  },
  SyncPaused: {
    orgId,
    realmId,
    data: { commandId, connectionId, outcome: 'paused', pausedAt: at, answeredAt: at },
  },
  SyncResumed: {
    orgId,
    realmId,
    data: { commandId, connectionId, outcome: 'resumed', answeredAt: at },
  },
  SyncIntervalChanged: {
    orgId,
    realmId,
    data: { commandId, connectionId, outcome: 'set', intervalMs: 300_000, isDefault: false, answeredAt: at },
  },
  EraseConnectionData: {
    orgId,
    data: { connectionId, requestedBy: 'operator-1', reason: 'customer asked for erasure' },
  },
  EraseOrgData: { orgId, data: { requestedBy: 'operator-1' } },
  ConnectionDataPurged: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      seq: '00000000000000000044',
      purgeId: '0193a1b2-c3d4-7e5f-8a9b-00000000f001',
      reason: 'grace_expired',
      counts: { records: 120, tombstones: 118, checkpoints: 6, runs: 4, errors: 1, apiCalls: 40 },
      purgedAt: at,
    },
  },
} satisfies SampleInputs;

/** Inputs of versions still readable but no longer written, keyed `Type@version`, to test their upcasting. */
export const olderSampleInputs = {
  'UpsertRecord@1': {
    orgId,
    realmId,
    data: {
      connectionId,
      entity: 'Customer',
      sparse: false,
      requestId: 'push-0001',
      payload: { DisplayName: 'Amy’s Bird Sanctuary' },
    },
  },
  'DeleteRecord@1': {
    orgId,
    realmId,
    data: { connectionId, entity: 'Invoice', entityId: '130', syncToken: '2', requestId: 'push-0002' },
  },
} as const;
