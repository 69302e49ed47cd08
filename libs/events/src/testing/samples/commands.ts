import { connectionId, orgId, realmId, runId, type SampleInputs } from './shared.js';

/** Samples of the commands sync-service takes (`qbo.commands.v1`). */
export const commandSamples = {
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
} satisfies Partial<SampleInputs>;
