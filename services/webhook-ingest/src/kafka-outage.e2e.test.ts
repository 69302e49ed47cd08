import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, readTopic, type TestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import { start, stop } from '@qbo/local-kafka';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { createTestDatabase, type ServiceProcess, type TestDatabase, waitFor } from '@qbo/testkit';
import { parseNotifications } from './domain/notification.js';
import {
  connectionsProducer,
  connectRealm,
  decode,
  messageCount,
  NEW_TOKEN,
  type Notified,
  startIngest,
} from './testing/harness.js';

// A broker of this suite's own, on its own ports and folder: stopping it leaves the shared one alone.
const broker = { port: 29592, controllerPort: 29593, runDir: mkdtempSync(join(tmpdir(), 'webhook-outage-')) };

describe('Kafka stopped while Intuit delivers webhooks', () => {
  let db: TestDatabase;
  let bus: TestBus;
  let ingest: ServiceProcess;
  let sim: Simulator;
  let producer: EventProducer;
  let realm: string;

  before(async () => {
    const { address } = await start(broker);
    db = await createTestDatabase('webhook-ingest-outage');
    bus = await createTestBus({
      brokers: [address],
      topics: [topics.connections, topics.webhooks, topics.webhooksParked],
    });
    ingest = await startIngest(db, bus, [address]);
    sim = await createSimulator({
      seed: { seed: 5, companies: 1, records: 30 },
      webhooks: {
        batchWindowMs: 50,
        timeScale: 0.01,
        targets: [{ url: `${ingest.url}/webhooks/quickbooks`, format: 'both', verifierToken: NEW_TOKEN }],
      },
    });
    realm = sim.control.companies()[0]?.realmId ?? '';
    producer = await connectionsProducer(bus);
    await connectRealm(producer, 'org-outage', realm);
    await waitFor(
      async () =>
        (await db.query('select 1 from webhook.realm_org where realm_id = $1', [realm])).length === 1,
      { timeoutMs: 60_000, what: 'the realm linked' },
    );
  });
  after(async () => {
    try {
      await sim?.close();
      await producer?.disconnect();
      await ingest?.stop();
    } finally {
      await stop(broker);
      rmSync(broker.runDir, { recursive: true, force: true });
      await db?.drop();
    }
  });

  it('answers 503 in time while Kafka is down, and every change acknowledged with 200 reaches the topic', async (t) => {
    const change = (n: number) =>
      sim.control.change(realm, {
        op: 'update',
        entity: 'Customer',
        id: String(n),
        data: { Notes: `v${n}` },
      });
    change(1);
    await waitFor(() => sim.control.deliveries().filter((d) => d.delivered).length === 2, {
      timeoutMs: 30_000,
      what: 'the first change delivered in both formats',
    });

    await stop(broker);
    change(2);
    change(3);
    const refused = await waitFor(
      () => {
        const attempts = sim.control.deliveries().flatMap((d) => d.attempts.filter((a) => a.status === 503));
        return attempts.length > 0 ? attempts : undefined;
      },
      { timeoutMs: 30_000, what: 'a delivery answered 503' },
    );
    assert.ok(
      refused.every((a) => a.ms < 3_000),
      'each 503 came within Intuit’s 3 s',
    );

    await start(broker);
    // The simulator's next retries are minutes away even compressed; a flush runs them now.
    await waitFor(
      async () => {
        await sim.control.flushWebhooks();
        return sim.control.deliveries().every((d) => d.delivered);
      },
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'every delivery acknowledged after Kafka came back' },
    );

    const acknowledged = sim.control
      .deliveries()
      .filter((d) => d.attempts.some((a) => a.status === 200))
      .flatMap((d) => {
        const parsed = parseNotifications(d.body);
        return parsed.ok ? parsed.changes.map((c) => c.eventId) : [];
      });
    const total = await messageCount(bus.kafka, bus.names.physical(topics.webhooks));
    const published = (await readTopic(bus.kafka, bus.names.physical(topics.webhooks), total)).map(
      ({ message }) => decode<Notified>(message.value).data.notificationId,
    );
    const missing = acknowledged.filter((id) => !published.includes(id));
    t.diagnostic(
      `answers 503: ${refused.length}; changes acknowledged: ${acknowledged.length}; ` +
        `events on the topic: ${published.length} (${published.length - new Set(published).size} duplicates)`,
    );
    assert.ok(
      sim.control.deliveries().some((d) => d.attempts[0]?.status === 503 && d.delivered),
      'a delivery refused during the outage was delivered by a retry',
    );
    assert.equal(acknowledged.length, 6, 'three changes, each in both formats, acknowledged');
    assert.deepEqual(missing, [], `acknowledged ${acknowledged.length}, published ${published.length}`);
  });
});
