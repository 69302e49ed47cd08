import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type GaugeMetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  type AnyEnvelope,
  type CatalogEvent,
  catalog,
  createEventFactory,
  definitions,
  RequestSync,
  SyncStarted,
  TokenRotated,
  topics,
} from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { readToEnd, uniqueName, waitFor } from '@qbo/testkit';
import { dlqHeaderNames, headerString } from '../headers.js';
import { createEventProducer, type EventProducer } from '../producer.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { createEventConsumer, type EventConsumer } from './consumer.js';
import type { EventHandlers } from './handlers.js';

// Spans go to memory so a test can see which trace a handler ran in.
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const make = createEventFactory({ source: 'consumer-test' });
const serde = createJsonSerde();
const fastRetry = { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 };

describe('producer and consumer on the real broker', () => {
  let bus: TestBus;
  let producer: EventProducer;
  const consumers: EventConsumer[] = [];

  const consume = async (handlers: EventHandlers, groupId = uniqueName('group')) => {
    const consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId,
      serde,
      log: bus.log,
      names: bus.names,
      handlers,
      retry: fastRetry,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };

  before(async () => {
    bus = await createTestBus();
    producer = createEventProducer({ kafka: bus.kafka, serde, log: bus.log, names: bus.names });
    await producer.connect();
  });
  after(async () => {
    for (const c of consumers) await c.stop();
    await producer?.disconnect();
  });

  it('carries every catalog event to its typed handler unchanged, keyed by org', async () => {
    // The newest version of each event: older ones are read upcast, so they would not come back as sent.
    const sent = definitions
      .filter((d) => catalog.latest(d.type) === d)
      .map((d) => make(d, sampleInputs[d.type] as never) as CatalogEvent);
    const received: AnyEnvelope[] = [];
    const collect = async (e: AnyEnvelope) => void received.push(e);
    await consume(Object.fromEntries(definitions.map((d) => [d.type, collect])) as EventHandlers);
    await producer.publish(sent);
    await waitFor(() => received.length >= sent.length, { timeoutMs: 60_000, what: 'every catalog event' });
    const byId = new Map(received.map((e) => [e.id, e]));
    for (const event of sent) assert.deepEqual(byId.get(event.id), event, `${event.type} round trip`);
    assert.equal(received.length, sent.length, 'each exactly once');

    // On the wire: the tokens topic holds exactly the events whose definition names it, each as sent.
    const raw = await readToEnd(bus.names.physical(topics.tokens), { kafka: bus.kafka });
    const onTokens = sent.filter((e) => catalog.find(e.type, e.version)?.topic === topics.tokens);
    assert.ok(onTokens.length > 1, 'the catalog has several token events');
    const byIdOrder = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
    assert.deepEqual(
      raw.map(({ message }) => JSON.parse(String(message.value)) as CatalogEvent).sort(byIdOrder),
      [...onTokens].sort(byIdOrder),
    );
    for (const { message } of raw) assert.equal(message.key?.toString(), 'org-acme');
  });

  it('refuses an event that breaks its schema at publish time, naming the field, and sends nothing', async () => {
    const good = make(RequestSync, sampleInputs.RequestSync);
    const bad = { ...good, data: { ...good.data, mode: 'whenever' } } as never;
    await assert.rejects(producer.publish([good, bad]), {
      name: 'EventSchemaError',
      message: /^RequestSync v1 does not match its schema: data\.mode: /,
    });
    // A later event on the same partition: whatever the refused batch had sent would lie before it.
    const later = make(RequestSync, sampleInputs.RequestSync);
    await producer.publish(later);
    const onTopic = (await readToEnd(bus.names.physical(topics.commands), { kafka: bus.kafka })).map(
      ({ message }) => String(message.value),
    );
    assert.ok(
      onTopic.some((v) => v.includes(later.id)),
      'the topic was read past the refusal',
    );
    assert.ok(!onTopic.some((v) => v.includes(good.id)), 'the valid event of the refused batch was not sent');
  });

  it('dead-letters a malformed message with its reason and goes on with the partition', async () => {
    const handled: string[] = [];
    const groupId = uniqueName('group');
    const consumer = await consume({ RequestSync: async (e) => void handled.push(e.id) }, groupId);
    const admin = bus.kafka.producer();
    await admin.connect();
    // Same key as the valid events, so all land on one partition behind the malformed one.
    await admin.send({
      topic: bus.names.physical(topics.commands),
      messages: [
        { key: 'org-acme', value: 'this is not an event' },
        { key: 'org-acme', value: JSON.stringify({ type: 'RequestSync', version: 1 }) },
      ],
    });
    await admin.disconnect();
    const next = make(RequestSync, sampleInputs.RequestSync);
    await producer.publish(next);
    await waitFor(() => handled.includes(next.id), {
      timeoutMs: 60_000,
      what: 'the event behind the malformed ones',
    });

    // Every group reading the topic dead-letters on its own (the first test's group too), so the DLQ holds
    // other groups' letters for the same messages: read all of it, then look at this group's.
    await waitFor(() => consumer.stats().deadLettered === 2, { what: 'two dead letters' });
    const dead = await readToEnd(bus.names.dlq(topics.commands), { kafka: bus.kafka });
    const mine = dead.filter(
      (d) => headerString(d.message.headers, dlqHeaderNames.consumerGroup) === groupId,
    );
    assert.equal(mine.length, 2, 'this group wrote one letter per malformed message');
    const byOffset = mine
      .map((d) => d.message)
      .sort(
        (a, b) =>
          Number(headerString(a.headers, dlqHeaderNames.originalOffset)) -
          Number(headerString(b.headers, dlqHeaderNames.originalOffset)),
      );
    assert.equal(byOffset[0]?.value?.toString(), 'this is not an event', 'the original bytes are kept');
    assert.equal(headerString(byOffset[0]?.headers, dlqHeaderNames.errorCode), 'not_json');
    assert.equal(headerString(byOffset[0]?.headers, dlqHeaderNames.errorType), 'DecodeError');
    assert.equal(headerString(byOffset[1]?.headers, dlqHeaderNames.errorCode), 'event_schema_violation');
    assert.equal(
      headerString(byOffset[1]?.headers, dlqHeaderNames.originalTopic),
      bus.names.physical(topics.commands),
    );
    assert.equal(headerString(byOffset[1]?.headers, dlqHeaderNames.retryCount), '0', 'poison is not retried');
    assert.equal(consumer.stats().deadLettered, 2);
  });

  it('retries a failing handler with backoff, then dead-letters it with the error code and retry count', async () => {
    const attempts = new Map<string, number>();
    await consume({
      TokenRotated: async (e, ctx) => {
        attempts.set(e.id, ctx.attempt);
        if (e.data.credentialVersion === 1 && ctx.attempt < 2)
          throw Object.assign(new Error('db busy'), { code: 'db_busy' });
        if (e.data.credentialVersion === 2)
          throw Object.assign(new Error('always down with AB11-secret'), { code: 'store_down' });
      },
    });
    const flaky = make(TokenRotated, {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: 1 },
    });
    const broken = make(TokenRotated, {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: 2 },
    });
    const after = make(TokenRotated, {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: 3 },
    });
    await producer.publish([flaky, broken, after]);
    await waitFor(() => attempts.has(after.id), {
      timeoutMs: 60_000,
      what: 'the event after the broken one',
    });
    assert.equal(attempts.get(flaky.id), 2, 'succeeded on the second attempt');
    assert.equal(attempts.get(broken.id), 3, 'tried the policy number of times');

    const letters = await readToEnd(bus.names.dlq(topics.tokens), { kafka: bus.kafka });
    assert.equal(letters.length, 1, 'one letter: the event that never succeeded');
    const [dead] = letters;
    assert.equal(JSON.parse(String(dead?.message.value)).id, broken.id, 'the original value is kept');
    assert.equal(headerString(dead?.message.headers, dlqHeaderNames.errorCode), 'store_down');
    assert.equal(headerString(dead?.message.headers, dlqHeaderNames.retryCount), '2');
    assert.ok(headerString(dead?.message.headers, dlqHeaderNames.firstFailedAt));
    const allHeaders = JSON.stringify(
      Object.fromEntries(Object.entries(dead?.message.headers ?? {}).map(([k, v]) => [k, String(v)])),
    );
    assert.doesNotMatch(allHeaders, /secret|always down/, 'no error message travels');
  });

  it('waits out a database outage longer than the retry budget: the event is handled once it is back, never dead-lettered', async () => {
    const during = make(TokenRotated, {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: 11 },
    });
    const next = make(TokenRotated, {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: 12 },
    });
    const attempts = new Map<string, number>();
    const handled: string[] = [];
    await consume({
      TokenRotated: async (e, ctx) => {
        if (e.id !== during.id && e.id !== next.id) return;
        attempts.set(e.id, ctx.attempt);
        // Postgres unreachable for twice the policy's attempts (3), as through a cut connection.
        if (e.id === during.id && ctx.attempt <= 6)
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        handled.push(e.id);
      },
    });
    await producer.publish([during, next]);
    await waitFor(() => handled.includes(next.id), { timeoutMs: 60_000, what: 'the event after the outage' });
    assert.equal(attempts.get(during.id), 7, 'tried until the outage ended, past the policy’s 3 attempts');
    assert.deepEqual(handled, [during.id, next.id], 'handled, in order');
    const letters = await readToEnd(bus.names.dlq(topics.tokens), { kafka: bus.kafka });
    assert.ok(!letters.some(({ message }) => String(message.value).includes(during.id)), 'not dead-lettered');
  });

  it('continues the producer’s trace in the handler', async () => {
    let handlerTrace: string | undefined;
    const event = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      const e = createEventFactory({ source: 'consumer-test' })(RequestSync, sampleInputs.RequestSync);
      await producer.publish(e);
      span.end();
      return { id: e.id, traceId: span.spanContext().traceId };
    });
    await consume({
      RequestSync: async (e) => {
        if (e.id === event.id) handlerTrace = trace.getActiveSpan()?.spanContext().traceId;
      },
    });
    await waitFor(() => handlerTrace, { timeoutMs: 60_000, what: 'the traced event' });
    assert.equal(handlerTrace, event.traceId);
    const processSpan = spans
      .getFinishedSpans()
      .find((s) => s.name === 'process RequestSync' && s.spanContext().traceId === event.traceId);
    assert.ok(processSpan, 'a consumer span in the producer’s trace');
  });

  it('stops cleanly in the middle of a retry, leaving the message uncommitted for redelivery', async () => {
    const groupId = uniqueName('group');
    let attempts = 0;
    let inHand: string | undefined;
    const first = createEventConsumer({
      kafka: bus.kafka,
      groupId,
      serde,
      log: bus.log,
      names: bus.names,
      topics: [topics.syncRuns],
      handlers: {
        SyncStarted: async (e) => {
          inHand ??= e.id;
          attempts++;
          throw new Error('not yet');
        },
      },
      retry: { attempts: 100, initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await first.start();
    const event = make(SyncStarted, sampleInputs.SyncStarted);
    await producer.publish(event);
    await waitFor(() => attempts > 0, { timeoutMs: 60_000, what: 'the first attempt' });
    const t0 = Date.now();
    await first.stop();
    assert.ok(Date.now() - t0 < 20_000, 'did not wait out the backoff');

    const redelivered: string[] = [];
    const second = createEventConsumer({
      kafka: bus.kafka,
      groupId,
      serde,
      log: bus.log,
      names: bus.names,
      topics: [topics.syncRuns],
      handlers: { SyncStarted: async (e) => void redelivered.push(e.id) },
    });
    consumers.push(second);
    await second.start();
    await waitFor(() => redelivered.length > 0, { timeoutMs: 60_000, what: 'redelivery to the same group' });
    assert.equal(redelivered[0], inHand, 'the message in hand was not committed');
    assert.equal(first.stats().handled, 0);
  });

  it('exposes its lag per partition as an OpenTelemetry gauge', async () => {
    const reader = new PullReader();
    const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
    const orgId = uniqueName('org-lag');
    const events = Array.from({ length: 10 }, (_, i) =>
      make(RequestSync, {
        ...sampleInputs.RequestSync,
        orgId,
        data: { ...sampleInputs.RequestSync.data, reason: `n${i}` },
      }),
    );
    await producer.publish(events);
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedFifth = false;
    const consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId: uniqueName('group'),
      serde,
      log: bus.log,
      names: bus.names,
      meter,
      handlers: {
        RequestSync: async (e) => {
          if (e.id === events[4]?.id) {
            reachedFifth = true;
            await blocked;
          }
        },
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await waitFor(() => reachedFifth, { timeoutMs: 60_000, what: 'the fifth event' });
    // The partition of this test's org: its batch began at or before the first of the ten events.
    const partition = consumer.lag().find((l) => l.lag >= 10);
    assert.ok(partition, 'a partition with lag while the handler is busy');
    const { resourceMetrics } = await reader.collect();
    const gauge = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'messaging.kafka.consumer.lag') as GaugeMetricData | undefined;
    const point = gauge?.dataPoints.find(
      (p) =>
        p.attributes['messaging.destination.partition.id'] === String(partition.partition) && p.value > 0,
    );
    assert.ok(point, 'the gauge reports the lag');
    assert.equal(point.value, partition.lag);
    release();
    await waitFor(() => consumer.lag().every((l) => l.lag === 0), {
      timeoutMs: 60_000,
      what: 'lag back to zero',
    });
  });
});
