import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe } from 'node:test';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, type TestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import {
  attack,
  createTestDatabase,
  type ExportedSpan,
  type OtlpSink,
  type ServiceProcess,
  spanFindings,
  startOtlpSink,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import { sign } from './domain/signature.js';
import { connectionsProducer, connectRealm, NEW_TOKEN, OLD_TOKEN, startIngest } from './testing/harness.js';

// OTLP span kinds (the API's plus one).
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

/** A realm id of this run alone (Intuit's are digits). */
const newRealm = () =>
  `93${String(Date.now()).slice(-9)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;

describe('what webhook-ingest exports to the tracing backend: OTLP to a collector stand-in, Kafka, Postgres (child process)', () => {
  let db: TestDatabase;
  let bus: TestBus;
  let sink: OtlpSink;
  let ingest: ServiceProcess;
  let producer: EventProducer;

  before(async () => {
    [db, bus, sink] = await Promise.all([
      createTestDatabase('webhook-ingest-telemetry'),
      createTestBus({ topics: [topics.connections, topics.webhooks, topics.webhooksParked] }),
      startOtlpSink(),
    ]);
    ingest = await startIngest(db, bus, testBrokers(), {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.tracesUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    producer = await connectionsProducer(bus);
  });
  after(async () => {
    await producer?.disconnect();
    await ingest?.stop();
    await sink?.close();
    await db?.drop();
  });

  attack(
    'read org and realm ids, signatures, verifier tokens and payload fragments from the spans of a consumed link, a routed, a parked and a kept delivery',
    async () => {
      const orgId = `org-traced-${randomUUID()}`;
      const realmId = newRealm();
      const unknownRealm = newRealm();
      await connectRealm(producer, orgId, realmId);
      await waitFor(
        async () =>
          (await db.query('select 1 from webhook.realm_org where realm_id = $1 and active', [realmId]))
            .length === 1,
        { timeoutMs: 60_000, what: 'the realm linked' },
      );

      const notificationId = `ce-traced-${randomUUID()}`;
      const entityId = '73190245';
      const lastUpdated = new Date(Date.now() - 61_234).toISOString();
      const entry = (realm: string, id: string) => ({
        specversion: '1.0',
        id,
        source: 'intuit.traced-source',
        type: 'qbo.customer.updated.v1',
        datacontenttype: 'application/json',
        time: lastUpdated,
        intuitentityid: entityId,
        intuitaccountid: realm,
        data: {},
      });
      // One routed, one parked (a realm nobody connected) and one kept (malformed) entry in one signed batch.
      const body = JSON.stringify([
        entry(realmId, notificationId),
        entry(unknownRealm, `${notificationId}-parked`),
        { ...entry(realmId, `${notificationId}-broken`), intuitentityid: undefined, type: 'qbo.x' },
      ]);
      const signature = sign(body, NEW_TOKEN);
      const res = await fetch(`${ingest.url}/webhooks/quickbooks`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'intuit-signature': signature },
      });
      assert.equal(res.status, 200, await res.text());

      const webhooksTopic = bus.names.physical(topics.webhooks);
      const sql = (s: ExportedSpan, table: string) =>
        String(s.attributes['db.query.text'] ?? '').includes(table);
      const spans = await waitFor(
        () => {
          const all = sink.spans();
          const seen =
            all.some((s) => s.kind === SERVER && s.attributes['url.path'] === '/webhooks/quickbooks') &&
            all.some((s) => sql(s, 'realm_org')) &&
            all.some((s) => sql(s, 'kept_entry')) &&
            all.some(
              (s) =>
                s.scope.includes('instrumentation-kafkajs') &&
                s.kind === PRODUCER &&
                s.attributes['messaging.destination.name'] === webhooksTopic,
            ) &&
            all.some((s) => s.kind === CONSUMER && s.name === 'process ConnectionEstablished');
          return seen ? all : undefined;
        },
        { timeoutMs: 30_000, what: 'the HTTP, SQL, producer and consumer spans exported' },
      );

      assert.deepEqual(
        spanFindings(spans, {
          'org id': orgId,
          'realm id': realmId,
          'unknown realm id': unknownRealm,
          'notification id': notificationId,
          'entity id': entityId,
          'payload time': lastUpdated,
          'payload source': 'intuit.traced-source',
          signature,
          'verifier token': NEW_TOKEN,
          'verifier token being retired': OLD_TOKEN,
        }),
        [],
      );
    },
    { timeout: 120_000 },
  );
});
