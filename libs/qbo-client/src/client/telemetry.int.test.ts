import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import { captureLog } from '../testing/capture-log.js';
import { memorySink } from '../testing/memory-sink.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';
import { createQboClient, type QboClient } from './client.js';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer(
  'test',
);
const sink = memorySink();
let sim: Simulator;
let client: QboClient;
let realmId: string;

before(async () => {
  sim = await createSimulator({ seed: { seed: 8, companies: 1, records: 50 } });
  realmId = sim.control.companies()[0]?.realmId ?? '';
  client = createQboClient({
    baseUrl: sim.url,
    tokens: createSimulatorTokenProvider({ url: sim.url, connections: [await connectRealm(sim, realmId)] }),
    budget: createBudget({ store: createMemoryBudgetStore(budgetLimits()) }),
    apiLog: sink,
    log: captureLog().log,
    tracer,
    retry: { baseDelayMs: 5 },
  });
});

after(() => sim.close());

const spanNamed = (name: string) => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  assert.ok(span, `a span named ${name}`);
  return span;
};

describe('telemetry', () => {
  it('makes a CLIENT span per call, child of the caller, with HTTP and Intuit attributes', async () => {
    const parent = tracer.startSpan('sync page');
    await context.with(trace.setSpan(context.active(), parent), () =>
      client.read(realmId, 'Customer', '1', { orgId: 'org-1', correlationId: 'run-7' }),
    );
    parent.end();
    const span = spanNamed('QBO read Customer');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(span.attributes['http.request.method'], 'GET');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.attributes['qbo.realm_id'], realmId);
    assert.equal(span.attributes['qbo.operation'], 'read');
    assert.equal(span.attributes['qbo.entity_id'], '1');
    assert.equal(span.attributes['qbo.correlation_id'], 'run-7');
    assert.equal(span.attributes['qbo.attempts'], 1);
    assert.equal(typeof span.attributes['qbo.budget_wait_ms'], 'number');
    assert.match(String(span.attributes['qbo.intuit_tid']), /^1-/);
    assert.match(String(span.attributes['url.full']), /\/v3\/company\/\d+\/customer\/1\?minorversion=75$/);
  });

  it('puts the trace and span ids of the call on its API log rows', async () => {
    const span = spanNamed('QBO read Customer');
    const row = sink.rows.find((r) => r.correlationId === 'run-7');
    assert.equal(row?.traceId, span.spanContext().traceId);
    assert.equal(row?.spanId, span.spanContext().spanId);
  });

  it('marks a failed call with its category and fault code, and records each retry', async () => {
    sim.control.addFault({ kind: '503', realmId, endpoint: 'query', times: 1 });
    await client.query(realmId, { entity: 'Vendor', maxResults: 1 }, { orgId: 'org-1' });
    const retried = spanNamed('QBO query Vendor');
    assert.deepEqual(
      retried.events.map((e) => [e.name, e.attributes?.['qbo.error.category']]),
      [['qbo.retry', 'server']],
    );
    assert.equal(retried.attributes['qbo.attempts'], 2);

    await client.read(realmId, 'Invoice', '999999', { orgId: 'org-1' }).catch(() => undefined);
    const failed = spanNamed('QBO read Invoice');
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.equal(failed.attributes['error.type'], 'not_found');
    assert.equal(failed.attributes['qbo.fault_code'], '610');
  });
});
