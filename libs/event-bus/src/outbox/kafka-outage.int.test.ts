import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { topics } from '@qbo/events';
import { start, stop } from '@qbo/local-kafka';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@qbo/testkit';
import { createEventConsumer, type EventConsumer } from '../consumer/consumer.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { appliedOrder, numbered, recordEffect, writeWithEvent } from '../testing/records.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createOutbox } from './outbox.js';
import { createOutboxRelay, type OutboxRelay } from './relay.js';

// A broker of this suite's own, on its own ports and folder: stopping it leaves the shared one alone.
const broker = {
  port: 29292,
  controllerPort: 29293,
  runDir: mkdtempSync(join(tmpdir(), 'event-bus-outage-')),
};

describe('Kafka stopped for 10 s while events are being written', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  let relay: OutboxRelay;
  let consumer: EventConsumer;
  const group = uniqueName('outage');
  const serde = createJsonSerde();

  before(async () => {
    const { address } = await start(broker);
    db = await createTestDatabase('outage');
    orm = await openTestStore(db);
    bus = await createTestBus({ brokers: [address], topics: [topics.records, topics.recordsState] });
    relay = createOutboxRelay({
      connectionString: db.url,
      schema: testSchema,
      kafka: bus.kafka,
      serde,
      log: bus.log,
      names: bus.names,
      idlePollMs: 20,
      backoff: { initialDelayMs: 200, maxDelayMs: 2_000 },
    });
    consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId: group,
      serde,
      log: bus.log,
      names: bus.names,
      handlers: { RecordUpserted: recordEffect(orm, group) },
    });
  });
  after(async () => {
    try {
      await relay?.stop();
      await consumer?.stop();
    } finally {
      await stop(broker);
      rmSync(broker.runDir, { recursive: true, force: true });
      await orm?.close();
      await db?.drop();
    }
  });

  it('loses nothing: every event written before, during and after the outage is applied once, in order', async () => {
    await consumer.start();
    relay.start();
    const outbox = createOutbox({ schema: testSchema });
    const orgs = ['org-1', 'org-2', 'org-3'].map((o) => uniqueName(o));
    const next = new Map(orgs.map((o) => [o, 0]));
    let writing = true;
    // Writers carry on through the outage: they only need Postgres.
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const org = orgs[i % orgs.length] as string;
        const n = next.get(org) ?? 0;
        await writeWithEvent(orm, outbox, numbered(org, n));
        next.set(org, n + 1);
        await sleep(20);
      }
    })();

    await sleep(2_000);
    await stop(broker);
    const writtenBeforeOutage = [...next.values()].reduce((a, b) => a + b, 0);
    await sleep(10_000);
    const writtenDuringOutage = [...next.values()].reduce((a, b) => a + b, 0) - writtenBeforeOutage;
    const [{ waiting }] = (await db.query(
      `select count(*)::int as waiting from ${testSchema}.outbox where sent_at is null`,
    )) as [{ waiting: number }];
    await start(broker);
    await sleep(2_000);
    writing = false;
    await writer;

    const expected = new Map(
      [...next].map(([org, count]) => [org, Array.from({ length: count }, (_, n) => n)]),
    );
    await waitFor(
      async () => {
        const applied = await appliedOrder(orm, group);
        return orgs.every((org) => (applied.get(org)?.length ?? 0) >= (expected.get(org)?.length ?? 0));
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every event applied after the outage' },
    );
    assert.ok(writtenDuringOutage > 100, `events were written during the outage (${writtenDuringOutage})`);
    const applied = await appliedOrder(orm, group);
    for (const org of orgs)
      assert.deepEqual(applied.get(org), expected.get(org), `${org}: all, once, in order`);
    assert.ok(waiting > 100, `events waited in the outbox while Kafka was down (${waiting})`);
  });
});
