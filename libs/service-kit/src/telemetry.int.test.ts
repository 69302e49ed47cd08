import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import {
  createTestDatabase,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
  uniqueName,
} from '@qbo/testkit';
import { Kafka, logLevel } from 'kafkajs';

interface SpanView {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  attributes: Record<string, unknown>;
}

describe('telemetry through the ESM preload', () => {
  let db: TestDatabase;
  let proc: ServiceProcess;
  const topic = uniqueName('telemetry');

  before(async () => {
    db = await createTestDatabase('telemetry');
    const admin = new Kafka({ brokers: testBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    proc = await startProcess({
      entry: fileURLToPath(new URL('testing/telemetry-app.js', import.meta.url)),
      preload: fileURLToPath(new URL('testing/telemetry-preload.js', import.meta.url)),
      env: { DATABASE_URL: db.url, KAFKA_BROKERS: testBrokers().join(','), TEST_TOPIC: topic },
    });
  });
  after(async () => {
    await proc?.stop();
    await db?.drop();
  });

  it('puts the HTTP server span, a pg span and a kafkajs producer span of one request in one trace', async () => {
    const res = await fetch(`${proc.url}/work/42`, { method: 'POST' });
    assert.equal(res.status, 200);
    const spans = (await (await fetch(`${proc.url}/spans`)).json()) as SpanView[];

    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /work/:id');
    assert.ok(server, `server span named by route; got ${spans.map((s) => s.name).join(', ')}`);
    const trace = spans.filter((s) => s.traceId === server.traceId);
    const pgSpan = trace.find((s) => s.scope.includes('instrumentation-pg') && s.kind === SpanKind.CLIENT);
    assert.ok(pgSpan, `pg span in the trace; got ${trace.map((s) => `${s.scope}:${s.name}`).join(', ')}`);
    const producer = trace.find(
      (s) => s.scope.includes('instrumentation-kafkajs') && s.kind === SpanKind.PRODUCER,
    );
    assert.ok(
      producer,
      `kafkajs producer span in the trace; got ${trace.map((s) => `${s.scope}:${s.name}`).join(', ')}`,
    );
    assert.equal(producer.attributes['messaging.destination.name'], topic);

    const ids = new Set(trace.map((s) => s.spanId));
    for (const child of [pgSpan, producer]) {
      assert.ok(
        child.parentSpanId && ids.has(child.parentSpanId),
        `${child.name} is parented inside the trace`,
      );
    }
    const line = proc.logs.find((l) => l.msg === 'work done');
    assert.equal(line?.trace_id, server.traceId, 'the log line carries the trace id');
  });

  it("keeps query values, such as an OAuth callback's code and state, out of every span", async () => {
    const res = await fetch(`${proc.url}/callback?code=AB11-secret-code&state=state-secret-value&realmId=1`);
    assert.equal(res.status, 200);
    const spans = (await (await fetch(`${proc.url}/spans`)).json()) as SpanView[];
    const server = spans.find((s) => s.attributes['url.path'] === '/callback');
    assert.ok(server, 'the callback has a server span');
    assert.equal(server.attributes['url.query'], 'code=REDACTED&state=REDACTED&realmId=REDACTED');
    const all = JSON.stringify(spans);
    assert.doesNotMatch(all, /secret-code|state-secret-value/);
  });

  it('carries the trace to the consumer in the message headers', async () => {
    const kafka = new Kafka({ brokers: testBrokers(), logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: uniqueName('telemetry') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const headers = await new Promise<Record<string, unknown>>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.headers ?? {}) });
    });
    await consumer.disconnect();
    const spans = (await (await fetch(`${proc.url}/spans`)).json()) as SpanView[];
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    assert.match(String(headers.traceparent), new RegExp(`^00-${server?.traceId}-[0-9a-f]{16}-0[01]$`));
  });
});
