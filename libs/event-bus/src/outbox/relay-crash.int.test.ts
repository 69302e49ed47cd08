import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import { topics } from '@qbo/events';
import {
  createTestDatabase,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
  uniqueName,
  waitFor,
} from '@qbo/testkit';
import { createEventConsumer, type EventConsumer } from '../consumer/consumer.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { readTopic } from '../testing/read-topic.js';
import { appliedOrder, numbered, recordEffect, writeWithEvent } from '../testing/records.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createOutbox } from './outbox.js';

const entry = fileURLToPath(new URL('../testing/relay-process.js', import.meta.url));

describe('an outbox relay killed between the database commit and the publish', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  let consumer: EventConsumer;
  const group = uniqueName('crash');
  const outbox = createOutbox({ schema: testSchema });
  const processes: ServiceProcess[] = [];

  const startRelay = async (stopAt?: 'before-publish' | 'after-publish') => {
    const proc = await startProcess({
      entry,
      env: {
        DATABASE_URL: db.url,
        OUTBOX_SCHEMA: testSchema,
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_TOPIC_PREFIX: bus.prefix,
        RELAY_STOP_AT: stopAt,
      },
    });
    processes.push(proc);
    return proc;
  };
  const effectsOf = async (eventId: string) =>
    (
      await db.query(`select n from ${testSchema}.effects where consumer_group = $1 and event_id = $2`, [
        group,
        eventId,
      ])
    ).length;
  const sentAt = async (eventId: string) =>
    (
      await db.query<{ sent_at: Date | null }>(
        `select sent_at from ${testSchema}.outbox where event_id = $1`,
        [eventId],
      )
    )[0]?.sent_at;

  before(async () => {
    db = await createTestDatabase('relay_crash');
    orm = await openTestStore(db);
    bus = await createTestBus({ topics: [topics.records, topics.recordsState] });
    consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId: group,
      serde: createJsonSerde(),
      log: bus.log,
      names: bus.names,
      handlers: { RecordUpserted: recordEffect(orm, group) },
    });
    await consumer.start();
  });
  after(async () => {
    for (const p of processes) await p.stop('SIGKILL');
    await consumer?.stop();
    await orm?.close();
    await db?.drop();
  });

  it('killed before publishing: a restarted relay publishes the event and its effect happens once', async () => {
    const event = numbered(uniqueName('org-before'), 1);
    await writeWithEvent(orm, outbox, event);
    const doomed = await startRelay('before-publish');
    const line = await doomed.waitForLog((l) => l.msg === 'relay stop point reached', 30_000);
    // The event, then its row for the state topic (a record event brings one along).
    assert.equal((line.eventIds as string[])[0], event.id);
    assert.equal((line.eventIds as string[]).length, 2);
    assert.equal(await doomed.stop('SIGKILL'), 'SIGKILL');
    assert.equal(await sentAt(event.id), null, 'the row is still unsent');

    const survivor = await startRelay();
    await waitFor(async () => (await effectsOf(event.id)) > 0, { timeoutMs: 60_000, what: 'the effect' });
    await waitFor(async () => (await sentAt(event.id)) !== null, {
      timeoutMs: 60_000,
      what: 'the row marked sent',
    });
    await survivor.stop('SIGKILL');
    assert.equal(await effectsOf(event.id), 1);
  });

  it('killed after publishing but before marking sent: the event is published again and its effect still happens once', async () => {
    const event = numbered(uniqueName('org-after'), 2);
    await writeWithEvent(orm, outbox, event);
    const doomed = await startRelay('after-publish');
    await doomed.waitForLog((l) => l.msg === 'relay stop point reached', 30_000);
    await doomed.stop('SIGKILL');
    assert.equal(await sentAt(event.id), null, 'the row is still unsent');
    await waitFor(async () => (await effectsOf(event.id)) > 0, {
      timeoutMs: 60_000,
      what: 'the effect of the first copy',
    });

    const handled = consumer.stats().handled;
    const survivor = await startRelay();
    await waitFor(async () => (await sentAt(event.id)) !== null, {
      timeoutMs: 60_000,
      what: 'the row marked sent',
    });
    await waitFor(() => consumer.stats().handled > handled, {
      timeoutMs: 60_000,
      what: 'the second copy handled',
    });
    await survivor.stop('SIGKILL');

    const copies = (await readTopic(bus.kafka, bus.names.physical(topics.records), 3)).filter(
      (m) => JSON.parse(String(m.message.value)).id === event.id,
    );
    assert.equal(copies.length, 2, 'the event is on the topic twice');
    assert.equal(await effectsOf(event.id), 1, 'and applied once');
    assert.deepEqual((await appliedOrder(orm, group)).get(event.orgId), [2]);
  });
});
