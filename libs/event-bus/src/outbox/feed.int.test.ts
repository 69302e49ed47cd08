import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createEventFactory, fitRecordEvent, stateKey, topics } from '@qbo/events';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@qbo/testkit';
import { createEventConsumer } from '../consumer/consumer.js';
import { headerString } from '../headers.js';
import { EventTooLargeError } from '../message-size.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { feedScript } from '../testing/feed.js';
import { outboxDrained, startTestRelay } from '../testing/outbox.js';
import { type RawMessage, readTopic } from '../testing/read-topic.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createOutbox } from './outbox.js';
import type { OutboxRelay } from './relay.js';

/** Small enough that a test reaches it with a few events, large enough for an ordinary one. */
const LIMIT = 65_536;

const text = (m: RawMessage, name: string) => headerString(m.message.headers, name);
const json = (m: RawMessage) => JSON.parse(m.message.value?.toString('utf8') ?? 'null');

describe('the change feed through the real outbox and relay', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  let relay: OutboxRelay;
  const outbox = createOutbox({ schema: testSchema, maxMessageBytes: LIMIT });
  const rows = async () => Number((await db.query(`select count(*) as n from ${testSchema}.outbox`))[0]?.n);
  const drained = () => outboxDrained(db, 60_000);

  before(async () => {
    db = await createTestDatabase('feed');
    orm = await openTestStore(db);
    bus = await createTestBus({ topics: [topics.records, topics.recordsState], maxMessageBytes: LIMIT });
    relay = startTestRelay(db, bus, { maxMessageBytes: LIMIT });
  });
  after(async () => {
    await relay?.stop();
    await orm?.close();
    await db?.drop();
  });

  it('lands each change on the log keyed by org and on the state topic keyed by record, tombstones null, stamped at produce time', async () => {
    // Events made "in 2019": neither the envelope's time nor Intuit's time may become the Kafka timestamp.
    const feed = feedScript({
      orgId: 'org-feed',
      make: createEventFactory({ source: 'sync-service', now: () => new Date('2019-06-01T12:00:00Z') }),
    });
    const changes = [
      feed.upsert('Customer', '1', { Id: '1', DisplayName: 'Amy' }),
      feed.upsert('Customer', '1', { Id: '1', DisplayName: 'Amy B' }),
      feed.upsert('Invoice', '7', { Id: '7', TotalAmt: 10 }),
      feed.delete('Invoice', '7'),
    ] as const;
    const producedFrom = Date.now();
    await orm.em.fork().transactional((em) => outbox.add(em, changes));
    await drained();
    const producedBy = Date.now();

    const log = await readTopic(bus.kafka, bus.names.physical(topics.records), 4);
    const state = await readTopic(bus.kafka, bus.names.physical(topics.recordsState), 4);
    assert.equal(log.length, 4);
    assert.equal(state.length, 4);

    assert.deepEqual(
      log.map((m) => [m.message.key?.toString(), json(m).id, text(m, 'ce_sequence'), text(m, 'op')]),
      changes.map((e) => ['org-feed', e.id, e.data.seq, e.data.op]),
    );
    const [first] = log as [RawMessage];
    assert.equal(text(first, 'ce_specversion'), '1.0');
    assert.equal(text(first, 'ce_id'), changes[0].id);
    assert.equal(text(first, 'ce_type'), 'qbo-platform.RecordUpserted.v1');
    assert.equal(text(first, 'ce_source'), `/orgs/org-feed/realms/${feed.realmId}`);
    assert.equal(text(first, 'ce_time'), '2019-06-01T12:00:00.000Z');
    assert.equal(text(first, 'ce_subject'), 'Customer/1');
    assert.equal(text(first, 'entity'), 'Customer');

    const customerKey = stateKey({
      orgId: 'org-feed',
      realmId: feed.realmId,
      entity: 'Customer',
      entityId: '1',
    });
    const invoiceKey = stateKey({
      orgId: 'org-feed',
      realmId: feed.realmId,
      entity: 'Invoice',
      entityId: '7',
    });
    // Each record's messages in order (the two keys may sit on different partitions).
    const ofKey = (key: string) => state.filter((m) => m.message.key?.toString() === key);
    const [customer1, customer2] = ofKey(customerKey).map(json);
    const [invoice, tombstone] = ofKey(invoiceKey) as [RawMessage, RawMessage];
    assert.deepEqual(
      [customer1, customer2, json(invoice)].map((s) => [s.type, s.data.seq, s.data.after, s.data.op]),
      changes
        .slice(0, 3)
        .map((e) => ['RecordState', e.data.seq, 'after' in e.data ? e.data.after : null, undefined]),
    );
    assert.equal(text(invoice, 'ce_type'), 'qbo-platform.RecordState.v1');
    assert.equal(text(invoice, 'ce_sequence'), changes[2].data.seq);
    assert.equal(tombstone.message.value, null, 'a tombstone has a null value, not an empty one');
    assert.equal(text(tombstone, 'op'), 'd');
    assert.equal(text(tombstone, 'seq'), changes[3].data.seq);

    for (const m of [...log, ...state]) {
      const ts = Number(m.message.timestamp);
      assert.ok(
        ts >= producedFrom - 1_000 && ts <= producedBy + 1_000,
        `timestamp ${ts} is the produce time`,
      );
    }
  });

  it('writes neither topic’s rows when the transaction rolls back', async () => {
    const feed = feedScript({ orgId: 'org-rollback' });
    const before = await rows();
    await assert.rejects(
      orm.em.fork().transactional(async (em) => {
        await outbox.add(em, [feed.upsert('Customer', '1', { Id: '1' }), feed.delete('Item', '2')]);
        throw new Error('the mirror write failed');
      }),
      /mirror write failed/,
    );
    assert.equal(await rows(), before);
  });

  it('refuses an event over the topic’s limit with a typed error before writing any of the batch', async () => {
    const feed = feedScript({ orgId: 'org-large' });
    const small = feed.upsert('Customer', '1', { Id: '1' });
    const large = feed.upsert('Invoice', '2', { Id: '2', Line: 'x'.repeat(LIMIT) });
    const before = await rows();
    await assert.rejects(
      orm.em.fork().transactional((em) => outbox.add(em, [small, large])),
      (err: unknown) =>
        err instanceof EventTooLargeError &&
        err.code === 'event_too_large' &&
        err.eventType === 'RecordUpserted' &&
        err.limit === LIMIT &&
        err.bytes > LIMIT,
    );
    assert.equal(await rows(), before);

    // Fitted, the same change is written and published, its payload replaced by its size.
    const fitted = fitRecordEvent(large, LIMIT);
    await orm.em.fork().transactional((em) => outbox.add(em, [small, fitted]));
    await drained();
    const log = await readTopic(bus.kafka, bus.names.physical(topics.records), 6);
    const published = log.map(json).find((e) => e.id === large.id);
    assert.equal(published?.data.after, undefined);
    assert.equal(published?.data.payloadOmitted.reason, 'too_large');
    assert.ok(published?.data.payloadOmitted.bytes > LIMIT);
  });

  it('sends a batch larger than the message limit in several requests, in order', async () => {
    // 30 events of ~20 kB for one org: 600 kB in one relay batch, ten times the topic's limit.
    const feed = feedScript({ orgId: 'org-bulk' });
    const changes = Array.from({ length: 30 }, (_, i) =>
      feed.upsert('Invoice', String(i), { Id: String(i), Memo: 'm'.repeat(20_000) }),
    );
    await orm.em.fork().transactional((em) => outbox.add(em, changes));
    await drained();
    const log = await readTopic(bus.kafka, bus.names.physical(topics.records), 36);
    assert.deepEqual(
      log
        .map(json)
        .filter((e) => e.orgId === 'org-bulk')
        .map((e) => e.data.seq),
      changes.map((e) => e.data.seq),
    );
  });

  it('lets the platform’s own consumer read RecordState events and pass over tombstones', async () => {
    const seqs: string[] = [];
    const consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId: uniqueName('state-reader'),
      serde: createJsonSerde(),
      log: bus.log,
      names: bus.names,
      handlers: {
        RecordState: async (event) => {
          seqs.push(event.data.seq);
        },
      },
    });
    await consumer.start();
    try {
      // The earlier tests left 35 states and one tombstone on the state topic.
      await waitFor(() => seqs.length === 35 && consumer.stats().skipped === 1, {
        timeoutMs: 60_000,
        what: 'every state and the tombstone',
      });
      assert.equal(consumer.stats().deadLettered, 0);
      assert.equal(consumer.stats().retried, 0);
    } finally {
      await consumer.stop();
    }
  });
});
