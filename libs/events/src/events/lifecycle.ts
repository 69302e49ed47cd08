import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { connectionId, realmId, seq, timestamp } from '../fields.js';
import { topics } from '../topics.js';

/** Who asked for an erasure: a platform user or operator id, as the caller's credential names it. */
const requestedBy = z.string().min(1).max(200);
const reason = z.string().max(200).optional();

/**
 * Erase everything the sync holds of one connection's company now: its mirror, cursors, runs, errors and API
 * log, a tombstone on the state topic for each of its records, then `ConnectionDataPurged`. The company is not
 * synced again until a newer connection event.
 */
export const EraseConnectionData = defineEvent({
  type: 'EraseConnectionData',
  version: 1,
  topic: topics.commands,
  description: "Command: erase the synced data of one connection's company now (to sync-service).",
  data: z.object({ connectionId, requestedBy, reason }),
});

/** The same as `EraseConnectionData` for every company of the org in the envelope. */
export const EraseOrgData = defineEvent({
  type: 'EraseOrgData',
  version: 1,
  topic: topics.commands,
  description: "Command: erase the synced data of every company of the envelope's org now (to sync-service).",
  data: z.object({ requestedBy, reason }),
});

/**
 * The sync holds nothing more of this company: the last event of it on the change log. Every record it had
 * was deleted before it (`RecordDeleted` reason `realm_detached`, a tombstone on the state topic), so a
 * downstream consumer drops what it keeps of the company (`orgId`, `realmId`) up to this `seq`.
 */
export const ConnectionDataPurged = defineEvent({
  type: 'ConnectionDataPurged',
  version: 1,
  topic: topics.records,
  description:
    "A company's synced data was purged (its disconnect's grace period ended, or an erasure); consumers drop theirs (sync-service).",
  data: z.object({
    connectionId,
    realmId,
    seq,
    purgeId: z.uuid(),
    reason: z.enum(['grace_expired', 'erasure']),
    /** Rows removed, by kind: what the purge's audit row holds too. */
    counts: z.object({
      records: z.number().int().min(0),
      tombstones: z.number().int().min(0),
      checkpoints: z.number().int().min(0),
      runs: z.number().int().min(0),
      errors: z.number().int().min(0),
      apiCalls: z.number().int().min(0),
    }),
    purgedAt: timestamp,
  }),
});
