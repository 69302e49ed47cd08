import { createHash } from 'node:crypto';
import {
  createEventFactory,
  type EventFactory,
  type EventOf,
  formatSeq,
  RecordDeleted,
  RecordUpserted,
} from '@qbo/events';

export type Upserted = EventOf<typeof RecordUpserted>;
export type Deleted = EventOf<typeof RecordDeleted>;

/** One org's change feed as the sync engine writes it: contiguous `seq`s, `c` then `u`, deletes. */
export interface FeedScript {
  readonly orgId: string;
  readonly realmId: string;
  upsert(entity: string, entityId: string, after: Record<string, unknown>): Upserted;
  delete(entity: string, entityId: string): Deleted;
  /** Leaves `n` sequence numbers unused, as a lost event would. */
  skip(n: number): void;
}

const CONNECTION_ID = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

export function feedScript({
  orgId,
  realmId = '9341453050298472',
  make = createEventFactory({ source: 'sync-service' }),
}: {
  orgId: string;
  realmId?: string;
  make?: EventFactory;
}): FeedScript {
  let seq = 0n;
  const versions = new Map<string, number>();
  const ref = (entity: string, entityId: string) => ({
    connectionId: CONNECTION_ID,
    realmId,
    entity,
    entityId,
    seq: formatSeq(++seq),
  });
  return {
    orgId,
    realmId,
    upsert(entity, entityId, after) {
      const key = `${entity}/${entityId}`;
      const version = (versions.get(key) ?? -1) + 1;
      versions.set(key, version);
      return make(RecordUpserted, {
        orgId,
        realmId,
        data: {
          ...ref(entity, entityId),
          source: { origin: 'cdc', syncToken: String(version), lastUpdatedTime: '2019-06-01T12:00:00Z' },
          op: version === 0 ? 'c' : 'u',
          voided: false,
          contentHash: createHash('sha256').update(JSON.stringify(after)).digest('hex'),
          after,
        },
      });
    },
    delete(entity, entityId) {
      versions.delete(`${entity}/${entityId}`);
      return make(RecordDeleted, {
        orgId,
        realmId,
        data: {
          ...ref(entity, entityId),
          source: { origin: 'cdc' },
          op: 'd',
          reason: 'deleted',
          deletedAt: '2019-06-01T12:00:00Z',
        },
      });
    },
    skip(n) {
      seq += BigInt(n);
    },
  };
}
