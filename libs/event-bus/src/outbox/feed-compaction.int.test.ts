import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { stateKey, topics } from '@qbo/events';
import { createTestDatabase, type TestDatabase, waitFor } from '@qbo/testkit';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { feedScript } from '../testing/feed.js';
import { outboxDrained, startTestRelay } from '../testing/outbox.js';
import { type RawMessage, readToEnd } from '../testing/read-topic.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createOutbox } from './outbox.js';
import type { OutboxRelay } from './relay.js';

describe('the compacted state topic', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  let relay: OutboxRelay;
  const outbox = createOutbox({ schema: testSchema });

  before(async () => {
    db = await createTestDatabase('feed_compaction');
    orm = await openTestStore(db);
    // One partition, segments rolled after 100 ms and no compaction lag, so the broker's cleaner (every 15 s)
    // compacts within the test; tombstones are kept a day, as in production they are kept a week.
    bus = await createTestBus({
      topics: [topics.records, topics.recordsState],
      partitions: 1,
      compaction: { minCompactionLagMs: 0, segmentMs: 100, deleteRetentionMs: 86_400_000 },
    });
    relay = startTestRelay(db, bus);
  });
  after(async () => {
    await relay?.stop();
    await orm?.close();
    await db?.drop();
  });

  const write = async (events: Parameters<typeof outbox.add>[1]) => {
    await orm.em.fork().transactional((em) => outbox.add(em, events));
    await outboxDrained(db);
  };

  it('compacts a deleted record down to its tombstone and a changed one down to its latest state', async () => {
    const feed = feedScript({ orgId: 'org-compact' });
    const key = (entity: string, entityId: string) =>
      stateKey({ orgId: feed.orgId, realmId: feed.realmId, entity, entityId });
    const latest = feed.upsert('Customer', '1', { Id: '1', DisplayName: 'v3' });
    await write([
      feed.upsert('Customer', '1', { Id: '1', DisplayName: 'v1' }),
      feed.upsert('Invoice', '9', { Id: '9', TotalAmt: 1 }),
      feed.upsert('Customer', '1', { Id: '1', DisplayName: 'v2' }),
      feed.upsert('Invoice', '9', { Id: '9', TotalAmt: 2 }),
      feed.delete('Invoice', '9'),
    ]);
    await write([latest]);
    const topic = bus.names.physical(topics.recordsState);
    assert.equal((await readToEnd(bus.kafka, topic)).length, 6, 'every version is there before compaction');

    // A message after segment.ms rolls the segment, and only rolled segments are compacted.
    await sleep(300);
    await write([feed.upsert('Item', '5', { Id: '5' })]);

    const compacted = await waitFor(
      async () => {
        const all = await readToEnd(bus.kafka, topic);
        return all.filter((m) => m.message.key?.toString() === key('Invoice', '9')).length === 1 && all;
      },
      { timeoutMs: 100_000, intervalMs: 2_000, what: 'the broker compacting the state topic' },
    );
    const of = (k: string) => compacted.filter((m: RawMessage) => m.message.key?.toString() === k);
    const [invoice] = of(key('Invoice', '9'));
    assert.equal(invoice?.message.value, null, 'the deleted record left only its tombstone');
    const customer = of(key('Customer', '1'));
    assert.equal(customer.length, 1);
    assert.equal(JSON.parse(customer[0]?.message.value?.toString() ?? '{}').data.seq, latest.data.seq);
    assert.equal(of(key('Item', '5')).length, 1);
  });
});
