import type { Outbox } from '@qbo/event-bus';
import {
  type EventFactory,
  fitRecordEvent,
  formatSeq,
  RecordDeleted,
  RecordSnapshotCompleted,
  RecordSnapshotStarted,
  RecordUpserted,
} from '@qbo/events';
import { utc } from '../domain/qbo-time.js';
import type { FeedEntry, FeedWriter } from './feed.js';

export interface FeedEventsOptions {
  outbox: Outbox;
  events: EventFactory;
  /** The change log's message limit: a record too large for it goes out without its payload. */
  maxMessageBytes: number;
  now?: () => Date;
}

/**
 * The change feed as the contract declares it: each entry becomes its record or snapshot event on the org's
 * ordered log, and the outbox writes each record's latest state (or a tombstone) to the compacted topic in the
 * same transaction.
 */
export function createFeedWriter({
  outbox,
  events,
  maxMessageBytes,
  now = () => new Date(),
}: FeedEventsOptions): FeedWriter {
  return {
    async write(em, entries) {
      if (entries.length === 0) return;
      await outbox.add(
        em,
        entries.map((entry) => eventOf(entry)),
      );
    },
  };

  function eventOf(entry: FeedEntry) {
    const { target } = entry;
    const envelope = { orgId: target.orgId, realmId: target.realmId };
    const ref = { connectionId: target.connectionId, realmId: target.realmId, seq: formatSeq(entry.seq) };
    if (entry.kind !== 'record') {
      const data = {
        ...ref,
        runId: entry.snapshot.runId,
        generation: entry.snapshot.generation,
        mode: entry.mode,
        entities: [...entry.entities],
      };
      return entry.kind === 'snapshot_started'
        ? events(RecordSnapshotStarted, { ...envelope, data })
        : events(RecordSnapshotCompleted, {
            ...envelope,
            data: {
              ...data,
              counts: entry.counts ?? { records: 0, deleted: 0 },
              completedAt: now().toISOString(),
            },
          });
    }
    const c = entry.change;
    const source = {
      origin: entry.origin,
      runId: entry.runId,
      ...(c.kind === 'upsert' && c.syncToken !== null ? { syncToken: c.syncToken } : {}),
      ...(c.lastUpdated !== null ? { lastUpdatedTime: utc(c.lastUpdated) } : {}),
    };
    const record = { ...ref, entity: entry.entity, entityId: c.entityId, source };
    if (c.kind === 'delete') {
      return events(RecordDeleted, {
        ...envelope,
        data: {
          ...record,
          op: 'd',
          reason: c.reason,
          ...(c.mergedInto !== undefined ? { mergedInto: c.mergedInto } : {}),
          deletedAt: utc(c.lastUpdated ?? now().getTime()),
        },
      });
    }
    return fitRecordEvent(
      events(RecordUpserted, {
        ...envelope,
        data: {
          ...record,
          op: c.op,
          ...(c.reason !== undefined ? { reason: c.reason } : {}),
          ...(c.active !== null ? { active: c.active } : {}),
          voided: c.voided,
          contentHash: c.contentHash,
          ...(entry.snapshot ? { snapshot: entry.snapshot } : {}),
          after: c.payload,
        },
      }),
      maxMessageBytes,
    );
  }
}
