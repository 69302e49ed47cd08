import { at, connectionId, orgId, realmId, type SampleInputs } from './shared.js';

/** Samples of erasure commands and the purge announcement. */
export const lifecycleSamples = {
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
} satisfies Partial<SampleInputs>;
