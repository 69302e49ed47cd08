import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ExportedSpan, type OtlpSink, spanFindings, startOtlpSink, waitFor } from '@qbo/testkit';
import { orgToken } from './testing/org-tokens.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';
import { type RunningWebhookIngest, startWebhookIngest } from './testing/webhook-ingest.js';

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

let sink: OtlpSink;
let sim: SimulatorUnderTest;
let stack: SyncStack;
let ingest: RunningWebhookIngest;
let realmId: string;
let orgId: string;
let connectionId: string;
let apiUrl: string;

before(async () => {
  sink = await startOtlpSink();
  const otel = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.tracesUrl, OTEL_BSP_SCHEDULE_DELAY: '100' };
  sim = await startSimulator(['--seed', '29', '--companies', '1', '--records', '60']);
  stack = await startSyncStack(sim);
  // A debounce long enough that two deliveries in a row always fall within it.
  apiUrl = (await stack.startReplica({ ...otel, SYNC_WEBHOOK_DEBOUNCE_MS: '3000' })).url;
  ingest = await startWebhookIngest(stack.bus.prefix, otel);
  await sim.addWebhookTarget({ url: ingest.url, format: 'cloudevents', verifierToken: ingest.verifierToken });
  realmId = sim.realmIds[0] as string;
  orgId = newOrg();
  connectionId = await stack.connect(realmId, orgId);
  await ingest.linked(realmId);
  await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
  // The delta the load asks for when it ends: the webhook's run below is the next one.
  await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
});

after(async () => {
  await ingest?.stop();
  await stack?.stop();
  await sim?.stop();
  await sink?.close();
});

/** The org tokens the tests sent, for the secret scan. */
const tokens: string[] = [];

const traceOf = (traceparent: unknown) => String(traceparent).split('-')[1];

/** The completed run of this trigger started after `since`. */
async function completedRun(trigger: 'webhook' | 'command', since: Date): Promise<string> {
  let run: { run_id: string } | undefined;
  await waitFor(
    async () => {
      [run] = await stack.db.query<{ run_id: string }>(
        `select run_id::text from sync.sync_run where realm_id = $1 and trigger = $2
           and status = 'completed' and started_at > $3`,
        [realmId, trigger, since],
      );
      return run !== undefined;
    },
    { timeoutMs: 60_000, what: `a ${trigger} run completed` },
  );
  return (run as { run_id: string }).run_id;
}

const find = (what: string, match: (s: ExportedSpan) => boolean) =>
  waitFor(() => sink.spans().find(match), { timeoutMs: 30_000, what });

const runSpanOf = (runId: string) =>
  find(
    'the run span',
    (s) => s.service === 'sync-service' && s.name === 'sync run' && s.attributes['qbo.sync.run_id'] === runId,
  );

/** The record events a run published, read from the topic. */
async function recordEventsOf(runId: string) {
  await stack.drained();
  return (await stack.readAll(topics.records))
    .map((m) => m.value)
    .filter(
      (v) =>
        v?.type === 'RecordUpserted' &&
        (v.data as { entityId?: string; source?: { runId?: string } }).source?.runId === runId,
    );
}

describe('tracing a change from Intuit’s webhook to the record event', () => {
  it('carries one trace id from the webhook request through Kafka, the run and its Intuit call to the qbo_api_log row and the record event', async () => {
    const since = new Date();
    await sim.change(realmId, { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'traced' } });
    await sim.flushWebhooks();
    const runId = await completedRun('webhook', since);

    // The trace the webhook started: webhook-ingest's request span is its root.
    const runSpan = await runSpanOf(runId);
    const traceId = runSpan.traceId;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const inTrace = (s: ExportedSpan) => s.traceId === traceId;

    const request = await find(
      'the webhook request span',
      (s) => inTrace(s) && s.service === 'webhook-ingest' && s.kind === SERVER,
    );
    assert.equal(request.parentSpanId, undefined, 'the trace starts at the webhook request');
    assert.equal(request.attributes['http.route'], '/webhooks/quickbooks');

    const consumed = await find(
      'the Kafka consume span in sync-service',
      (s) =>
        inTrace(s) &&
        s.service === 'sync-service' &&
        s.kind === CONSUMER &&
        s.name === 'process EntityChangeNotified',
    );
    const claim = await find('the claim span', (s) => inTrace(s) && s.name === 'sync claim');
    assert.equal(claim.parentSpanId, consumed.spanId, 'the claim continues the notification it serves');
    assert.equal(claim.attributes['qbo.sync.trigger'], 'webhook');
    assert.equal(runSpan.parentSpanId, claim.spanId);

    const call = await find(
      'the Intuit call span',
      (s) => s.kind === CLIENT && s.name.startsWith('QBO ') && s.attributes['qbo.correlation_id'] === runId,
    );
    assert.equal(call.traceId, traceId);
    assert.equal(call.parentSpanId, runSpan.spanId);
    const http = await find(
      'the Intuit HTTP request span',
      (s) => s.kind === CLIENT && s.parentSpanId === call.spanId,
    );
    assert.equal(http.traceId, traceId);

    // The API log, read from its table: every attempt of the run's calls names the trace and its call span.
    const logged = await stack.db.query<{ trace_id: string; span_id: string }>(
      'select trace_id, span_id from sync.qbo_api_log where correlation_id = $1',
      [runId],
    );
    assert.ok(logged.length > 0, 'the run called Intuit');
    assert.deepEqual([...new Set(logged.map((r) => r.trace_id))], [traceId]);
    assert.ok(logged.some((r) => r.span_id === call.spanId));

    // The record event, read from Kafka: its CloudEvents traceparent continues the same trace.
    const events = await recordEventsOf(runId);
    assert.equal(events.length, 1, 'the changed customer was published once by the run');
    const [event] = events;
    assert.equal((event?.data as { entityId?: string } | undefined)?.entityId, '1');
    assert.equal(traceOf(event?.traceparent), traceId);
  });

  it('continues the first of a debounced burst of webhooks and links the others', async () => {
    const since = new Date();
    // Two deliveries, so two webhook traces, within one debounce window: one run serves both.
    await sim.change(realmId, { op: 'update', entity: 'Customer', id: '2', data: { Notes: 'first' } });
    await sim.flushWebhooks();
    await sim.change(realmId, { op: 'update', entity: 'Customer', id: '3', data: { Notes: 'second' } });
    await sim.flushWebhooks();
    const runId = await completedRun('webhook', since);

    const runSpan = await runSpanOf(runId);
    const claim = await find('the claim span', (s) => s.spanId === runSpan.parentSpanId);
    const parent = await find('the claim’s parent', (s) => s.spanId === claim.parentSpanId);
    assert.equal(parent.name, 'process EntityChangeNotified');
    assert.equal(claim.links.length, 1, 'the second notification is linked');
    const [link] = claim.links;
    assert.notEqual(link?.traceId, claim.traceId);
    const linked = await find('the linked span', (s) => s.spanId === link?.spanId);
    assert.equal(linked.name, 'process EntityChangeNotified');
    assert.equal(linked.traceId, link?.traceId);
    assert.equal(claim.attributes['qbo.sync.linked_asks'], 1);
    // Each notification's trace began at its own webhook request.
    for (const traceId of [claim.traceId, link?.traceId]) {
      const root = await find(
        'a webhook request span',
        (s) => s.traceId === traceId && s.service === 'webhook-ingest' && s.kind === SERVER,
      );
      assert.equal(root.parentSpanId, undefined);
    }

    const events = await recordEventsOf(runId);
    assert.deepEqual(
      events.map((e) => (e?.data as { entityId?: string } | undefined)?.entityId).sort(),
      ['2', '3'],
      'one run published both customers',
    );
    for (const e of events) assert.equal(traceOf(e?.traceparent), claim.traceId);
  });

  it('continues the API request that asked for a sync', async () => {
    const since = new Date();
    const token = await orgToken(orgId);
    tokens.push(token);
    const answer = await callApi(apiUrl, 'POST', `/connections/${connectionId}/sync`, {
      token,
      body: { mode: 'incremental' },
    });
    assert.equal(answer.status, 202);
    const runId = await completedRun('command', since);
    const runSpan = await runSpanOf(runId);
    const claim = await find('the claim span', (s) => s.spanId === runSpan.parentSpanId);
    const request = await find('the API request span', (s) => s.spanId === claim.parentSpanId);
    assert.equal(request.service, 'sync-service');
    assert.equal(request.kind, SERVER);
    assert.equal(request.attributes['http.route'], '/connections/:connectionId/sync');
    assert.equal(request.traceId, runSpan.traceId);
  });

  it('puts no secret in any span: verifier token, service credential, grant tokens, org tokens', () => {
    const secrets = Object.fromEntries(
      [ingest.verifierToken, ...stack.secrets, ...tokens].map((v, i) => [`secret ${i}`, v]),
    );
    assert.ok(sink.spans().length > 0);
    assert.deepEqual(spanFindings(sink.spans(), secrets), []);
  });
});
