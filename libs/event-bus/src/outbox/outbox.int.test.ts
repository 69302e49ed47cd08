import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { RecordUpserted, topics } from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { createTestDatabase, type TestDatabase, uniqueName, waitFor } from '@qbo/testkit';
import { createEventConsumer, type EventConsumer } from '../consumer/consumer.js';
import { createEventProducer } from '../producer.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { appliedOrder, numbered, recordEffect, writeWithEvent } from '../testing/records.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createTracedEventFactory } from '../traced-event-factory.js';
import { createOutbox } from './outbox.js';
import { createOutboxRelay, type OutboxRelay } from './relay.js';

const serde = createJsonSerde();
trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

describe('transactional outbox and inbox on real Postgres and Kafka', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  const outbox = createOutbox({ schema: testSchema });
  const running: { stop(): Promise<void> }[] = [];

  const relay = (): OutboxRelay => {
    const r = createOutboxRelay({
      connectionString: db.url,
      schema: testSchema,
      kafka: bus.kafka,
      serde,
      log: bus.log,
      names: bus.names,
      batchSize: 50,
      idlePollMs: 20,
      standbyPollMs: 100,
    });
    running.push(r);
    r.start();
    return r;
  };
  const consumer = async (group: string): Promise<EventConsumer> => {
    const c = createEventConsumer({
      kafka: bus.kafka,
      groupId: group,
      serde,
      log: bus.log,
      names: bus.names,
      handlers: { RecordUpserted: recordEffect(orm, group) },
    });
    running.push(c);
    await c.start();
    return c;
  };
  const unsent = async () =>
    Number((await db.query(`select count(*) as n from ${testSchema}.outbox where sent_at is null`))[0]?.n);

  before(async () => {
    db = await createTestDatabase('outbox');
    orm = await openTestStore(db);
    bus = await createTestBus({ topics: [topics.records, topics.recordsState] });
  });
  after(async () => {
    for (const r of running.reverse()) await r.stop();
    await orm?.close();
    await db?.drop();
  });

  it('writes the event only if the state change commits', async () => {
    const event = numbered('org-rollback', 0);
    await assert.rejects(
      orm.em.fork().transactional(async (em) => {
        await outbox.add(em, event);
        throw new Error('the state change failed');
      }),
      /state change failed/,
    );
    assert.equal(
      (await db.query(`select 1 from ${testSchema}.outbox where event_id = $1`, [event.id])).length,
      0,
    );
    await writeWithEvent(orm, outbox, event);
    const [row] = await db.query(`select topic, key, payload from ${testSchema}.outbox where event_id = $1`, [
      event.id,
    ]);
    assert.deepEqual(row, { topic: 'qbo.records.v1', key: 'org-rollback', payload: event });
  });

  it('refuses to write outside a transaction', async () => {
    await assert.rejects(outbox.add(orm.em.fork(), numbered('org-x', 0)), /must run inside the transaction/);
  });

  it('refuses an event that breaks its schema before writing any of the batch', async () => {
    const good = numbered('org-schema', 0);
    const bad = { ...numbered('org-schema', 1), data: { syncToken: 'one' } } as never;
    await assert.rejects(
      orm.em.fork().transactional((em) => outbox.add(em, [good, bad])),
      { name: 'EventSchemaError', message: /^RecordUpserted v1 does not match its schema: data\./ },
    );
    assert.equal(
      (await db.query(`select 1 from ${testSchema}.outbox where event_id = $1`, [good.id])).length,
      0,
    );
  });

  it('relays committed events in order, marks them sent, and the inbox applies each once under redelivery', async () => {
    const group = uniqueName('inbox');
    const events = Array.from({ length: 20 }, (_, n) => numbered(n % 2 ? 'org-odd' : 'org-even', n));
    for (const e of events) await writeWithEvent(orm, outbox, e);
    const c = await consumer(group);
    const only = relay();
    await waitFor(async () => (await unsent()) === 0, { timeoutMs: 60_000, what: 'the outbox drained' });
    await only.stop();
    await waitFor(
      async () =>
        ((await appliedOrder(orm, group)).get('org-odd')?.length ?? 0) >= 10 &&
        ((await appliedOrder(orm, group)).get('org-even')?.length ?? 0) >= 10,
      {
        timeoutMs: 60_000,
        what: 'every effect',
      },
    );

    const handledBefore = c.stats().handled;
    const again = createEventProducer({ kafka: bus.kafka, serde, log: bus.log, names: bus.names });
    await again.connect();
    await again.publish(events);
    await again.disconnect();
    await waitFor(() => c.stats().handled >= handledBefore + events.length, {
      timeoutMs: 60_000,
      what: 'the redelivered copies',
    });

    const applied = await appliedOrder(orm, group);
    assert.deepEqual(applied.get('org-even'), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.deepEqual(applied.get('org-odd'), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('keeps each org’s order with two relays running, across a leader handover', async () => {
    const group = uniqueName('order');
    const orgs = ['org-a', 'org-b', 'org-c', 'org-d'].map((o) => uniqueName(o));
    await consumer(group);
    const first = relay();
    const second = relay();
    const perOrg = 60;
    const write = async (from: number, to: number) => {
      // Orgs write concurrently, each its own changes in order, as independent requests would.
      await Promise.all(
        orgs.map(async (org) => {
          for (let n = from; n < to; n++) await writeWithEvent(orm, outbox, numbered(org, n));
        }),
      );
    };
    await write(0, perOrg / 2);
    await waitFor(() => first.stats().published + second.stats().published > 0, {
      timeoutMs: 60_000,
      what: 'a leader publishing',
    });
    const leader = first.stats().leader ? first : second;
    const standby = leader === first ? second : first;
    await Promise.all([write(perOrg / 2, perOrg), leader.stop()]);
    await waitFor(async () => (await unsent()) === 0, {
      timeoutMs: 60_000,
      what: 'the outbox drained by the standby',
    });
    await waitFor(
      async () => {
        const applied = await appliedOrder(orm, group);
        return orgs.every((org) => (applied.get(org)?.length ?? 0) >= perOrg);
      },
      { timeoutMs: 60_000, what: 'every effect' },
    );

    assert.ok(leader.stats().published > 0 && standby.stats().published > 0, 'both relays published');
    const applied = await appliedOrder(orm, group);
    const expected = Array.from({ length: perOrg }, (_, n) => n);
    for (const org of orgs)
      assert.deepEqual(
        applied.get(org),
        expected,
        `${org} in order, each once: ${applied.get(org)?.join(',')}`,
      );
  });

  it('carries the writer’s trace through the outbox to the handler', async () => {
    const group = uniqueName('trace');
    const make = createTracedEventFactory({ source: 'sync-service' });
    const written = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      const event = make(RecordUpserted, { ...sampleInputs.RecordUpserted, orgId: uniqueName('org-trace') });
      await orm.em.fork().transactional((em) => outbox.add(em, event));
      span.end();
      return { id: event.id, traceId: span.spanContext().traceId };
    });
    let seen: string | undefined;
    const c = createEventConsumer({
      kafka: bus.kafka,
      groupId: group,
      serde,
      log: bus.log,
      names: bus.names,
      handlers: {
        RecordUpserted: async (e) => {
          if (e.id === written.id) seen = trace.getActiveSpan()?.spanContext().traceId;
        },
      },
    });
    running.push(c);
    await c.start();
    const r = relay();
    await waitFor(() => seen, { timeoutMs: 60_000, what: 'the traced event handled' });
    await r.stop();
    assert.equal(seen, written.traceId);
  });
});
