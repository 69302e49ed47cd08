import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { FAILURES } from './domain/failure.js';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { recordEvents } from './testing/feed-reading.js';
import type { Counters, SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  // Two companies of 5,000 records each, Intuit's limits on; alerts after two failed runs in a row.
  sim = await startSimulator(['--seed', '29', '--companies', '2', '--records', '5000']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_FAILURE_ALERT_AFTER: '2' });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

/** Every call the simulator counted for the realm, all endpoints together. */
const callsOf = (counters: Counters, realmId: string) =>
  Object.values(counters[realmId] ?? {}).reduce((sum, e) => sum + (e?.calls ?? 0), 0);

interface ErrorRow {
  error_id: string;
  kind: string;
  entity: string;
  entity_id: string | null;
  category: string;
  code: string;
  retryable: boolean;
  remediation: string;
  attempts: number;
  first_run_id: string;
  last_run_id: string;
  api_call_id: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  resolved_at: Date | null;
  resolved_by: string | null;
}

const errorRows = (realmId: string) =>
  stack.db.query<ErrorRow>(
    `select error_id::text, kind, entity, entity_id, category, code, retryable, remediation, attempts,
       first_run_id::text, last_run_id::text, api_call_id::text, first_seen_at, last_seen_at, resolved_at,
       resolved_by
     from sync.sync_error where realm_id = $1 order by first_seen_at, error_id`,
    [realmId],
  );

const runEvents = async (type: string) =>
  (await stack.readAll(topics.syncRuns))
    .map((m) => m.value)
    .filter((v): v is AnyEnvelope => v !== null && v.type === type);

describe('operating the sync: errors as data, audit, retries, alerts', () => {
  it('keeps 3 poisoned records of 5,000 as error rows linked to their calls; retry one costs one call, retry all closes the rest', {
    timeout: 300_000,
  }, async () => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()].sort(
      (a, b) => Number(a) - Number(b),
    );
    const invoices = [...(await simulatorRecords(sim, realmId, 'Invoice')).keys()].sort(
      (a, b) => Number(a) - Number(b),
    );
    const poisoned = [
      { entity: 'Customer', recordId: customers[100] as string },
      { entity: 'Customer', recordId: customers[900] as string },
      { entity: 'Invoice', recordId: invoices[300] as string },
    ];
    for (const p of poisoned) await sim.addFault({ kind: 'poison', realmId, ...p, code: '4002' });
    const connectionId = await stack.connect(realmId, orgId);
    const load = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 180_000);
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });

    // Errors are data: one row per record, with what an operator needs.
    const rows = await errorRows(realmId);
    assert.equal(rows.length, 3, 'one error row per poisoned record');
    for (const r of rows) {
      assert.deepEqual(
        [r.kind, r.category, r.code, r.retryable, r.first_run_id, r.resolved_at],
        ['record', 'validation', '4002', true, load.run_id, null],
      );
      assert.equal(r.remediation, FAILURES['4002']?.remediation);
      assert.ok(r.api_call_id, 'the failing call is named');
    }
    assert.deepEqual(rows.map((r) => r.entity).sort(), ['Customer', 'Customer', 'Invoice']);

    // Each row leads to the exact request: the call's qbo_api_log rows, its intuit_tid and trace id.
    await waitFor(
      async () =>
        (
          await stack.db.query('select 1 from sync.qbo_api_log where call_id = any($1::uuid[])', [
            rows.map((r) => r.api_call_id),
          ])
        ).length === 3,
      { timeoutMs: 10_000, what: 'the failing calls in qbo_api_log' },
    );
    const calls = await stack.db.query<{
      call_id: string;
      correlation_id: string;
      entity_type: string;
      status: number;
      fault_code: string;
      intuit_tid: string | null;
      trace_id: string | null;
      query: string;
    }>(
      `select call_id::text, correlation_id, entity_type, status, fault_code, intuit_tid, trace_id, query
       from sync.qbo_api_log where call_id = any($1::uuid[])`,
      [rows.map((r) => r.api_call_id)],
    );
    for (const r of rows) {
      const call = calls.find((c) => c.call_id === r.api_call_id);
      assert.ok(call, `the call of ${r.entity} ${r.error_id}`);
      assert.deepEqual(
        [call.correlation_id, call.entity_type, call.status, call.fault_code],
        [load.run_id, r.entity, 400, '4002'],
      );
      assert.ok(call.intuit_tid, 'with its intuit_tid');
      assert.ok(call.trace_id, 'and its trace id');
      assert.match(call.query, /MAXRESULTS 1\b/i, 'the call that read the record alone');
    }

    // The run's audit, per entity: counts that add up to the run's, failures where they happened, and calls
    // that are exactly the run's calls in qbo_api_log.
    const audit = await stack.db.query<{
      entity: string;
      pages: number;
      upserted: number;
      failures: number;
      api_calls: number;
    }>('select entity, pages, upserted, failures, api_calls from sync.sync_run_entity where run_id = $1', [
      load.run_id,
    ]);
    // `*`: the load's `/batch` calls, one counting every entity, one more per group of small entities read
    // together; like every row, equal to the calls the log holds (whose entity is none).
    assert.deepEqual(audit.map((a) => a.entity).sort(), ['*', ...SIX].sort());
    assert.equal(
      audit.reduce((n, a) => n + a.upserted, 0),
      load.upserted,
      'the entities add up to the run',
    );
    assert.deepEqual(
      Object.fromEntries(audit.filter((a) => a.failures > 0).map((a) => [a.entity, a.failures])),
      { Customer: 2, Invoice: 1 },
    );
    await waitFor(
      async () => {
        const [logged] = await stack.db.query<{ n: number }>(
          `select count(distinct call_id)::int as n from sync.qbo_api_log where correlation_id = $1`,
          [load.run_id],
        );
        return logged?.n === audit.reduce((n, a) => n + a.api_calls, 0);
      },
      { timeoutMs: 10_000, what: "the audit's calls equal the run's calls in qbo_api_log" },
    );
    const byEntity = await stack.db.query<{ entity_type: string; n: number }>(
      `select entity_type, count(distinct call_id)::int as n from sync.qbo_api_log
       where correlation_id = $1 group by entity_type`,
      [load.run_id],
    );
    for (const a of audit) {
      const logged = byEntity.find((b) => (b.entity_type ?? '*') === a.entity)?.n ?? 0;
      assert.equal(logged, a.api_calls, `${a.entity}'s calls`);
    }

    // The customer fixed its data in QuickBooks: retry one record.
    await sim.clearFaults();
    await stack.drained();
    const eventsBefore = await recordEvents(stack, realmId);
    const one = rows.find((r) => r.entity === 'Customer') as ErrorRow;
    const before1 = callsOf(await sim.counters(), realmId);
    const command1 = await stack.retryError(orgId, connectionId, one.error_id);
    await waitFor(
      async () => (await errorRows(realmId)).some((r) => r.error_id === one.error_id && r.resolved_at),
      { timeoutMs: 30_000, what: 'the retried row closed' },
    );
    await stack.drained();
    assert.equal(callsOf(await sim.counters(), realmId) - before1, 1, 'exactly one call to Intuit');
    const fixed = (await errorRows(realmId)).find((r) => r.error_id === one.error_id) as ErrorRow;
    assert.equal(fixed.resolved_by, 'retry');
    assert.ok(
      poisoned.some((p) => p.entity === 'Customer' && p.recordId === fixed.entity_id),
      'the row now names the record',
    );
    const newEvents = (await recordEvents(stack, realmId)).slice(eventsBefore.length);
    assert.deepEqual(
      newEvents.map((e) => [e.type, e.data.entity, e.data.entityId]),
      [['RecordUpserted', 'Customer', fixed.entity_id]],
      'its record event, and only its',
    );
    const retried = (await runEvents('SyncErrorRetried')).find(
      (e) => (e.data as { commandId: string }).commandId === command1,
    )?.data as { outcome: string; apiCalls: number; errorId: string } | undefined;
    assert.deepEqual([retried?.outcome, retried?.apiCalls, retried?.errorId], ['resolved', 1, one.error_id]);

    // Retry every retryable failure of the run: the other two, one call each.
    const before2 = callsOf(await sim.counters(), realmId);
    const command2 = await stack.retryRun(orgId, connectionId, load.run_id);
    await waitFor(
      async () =>
        (await runEvents('RunErrorsRetried')).some(
          (e) => (e.data as { commandId: string }).commandId === command2,
        ),
      { timeoutMs: 60_000, what: 'RunErrorsRetried' },
    );
    const summary = (await runEvents('RunErrorsRetried')).find(
      (e) => (e.data as { commandId: string }).commandId === command2,
    )?.data as { retried: number; resolved: number; failed: number; apiCalls: number };
    assert.deepEqual([summary.retried, summary.resolved, summary.failed, summary.apiCalls], [2, 2, 0, 2]);
    assert.equal(callsOf(await sim.counters(), realmId) - before2, 2, 'one call per record');
    const closed = await errorRows(realmId);
    assert.ok(
      closed.every((r) => r.resolved_at !== null && r.resolved_by === 'retry'),
      'every row closed, none deleted',
    );
    assert.equal(closed.length, 3);
    assert.deepEqual(
      closed.map((r) => r.entity_id).sort(),
      poisoned.map((p) => p.recordId).sort(),
      'each row names its record',
    );
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
    const after = (await recordEvents(stack, realmId)).slice(eventsBefore.length + 1);
    assert.deepEqual(
      after.map((e) => e.data.entityId).sort(),
      poisoned
        .filter((p) => p.recordId !== fixed.entity_id)
        .map((p) => p.recordId)
        .sort(),
      'one record event each',
    );
  });

  it('keeps a failing run as an error row, alerts after two failed runs in a row, and closes it when a run completes', {
    timeout: 240_000,
  }, async () => {
    const realmId = sim.realmIds[1] as string;
    const orgId = newOrg();
    const connectionId = await stack.connect(realmId, orgId);
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 180_000);
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
    // Intuit fails every CDC call: each run fails after the client's attempts, and the schedule backs off.
    await sim.addFault({ kind: '503', realmId, endpoint: 'cdc' });
    const since = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    await waitFor(
      async () =>
        (await runEvents('ConnectionSyncFailing')).some(
          (e) => (e.data as { connectionId: string }).connectionId === connectionId,
        ),
      { timeoutMs: 180_000, what: 'ConnectionSyncFailing' },
    );
    const failed = await stack.db.query<{ run_id: string }>(
      `select run_id::text from sync.sync_run where realm_id = $1 and status = 'failed' and started_at > $2
       order by started_at`,
      [realmId, since],
    );
    assert.ok(failed.length >= 2, 'two failed runs at least');
    const alerts = (await runEvents('ConnectionSyncFailing')).filter(
      (e) => (e.data as { connectionId: string }).connectionId === connectionId,
    );
    assert.equal(alerts.length, 1, 'one alert per streak');
    const alert = alerts[0] as AnyEnvelope;
    const data = alert.data as {
      consecutiveFailures: number;
      lastSyncRunId: string;
      lastError: { category: string; code: string };
      realmId: string;
    };
    assert.deepEqual(
      [alert.orgId, data.realmId, data.consecutiveFailures, data.lastSyncRunId, data.lastError.category],
      [orgId, realmId, 2, failed[1]?.run_id, 'server'],
    );
    const [runError] = (await errorRows(realmId)).filter((r) => r.kind === 'run');
    assert.ok(runError, 'the run failure is a row');
    assert.deepEqual(
      [runError.code, runError.category, runError.retryable, runError.resolved_at],
      ['503', 'server', true, null],
    );
    assert.ok(runError.attempts >= 2, 'a repeat counts on the same row');
    assert.ok(runError.remediation.length > 20);
    const [call] = await stack.db.query<{ status: number; correlation_id: string; attempt: number }>(
      'select status, correlation_id, attempt from sync.qbo_api_log where call_id = $1::uuid order by attempt desc limit 1',
      [runError.api_call_id],
    );
    assert.equal(call?.status, 503, 'linked to the failing call');
    assert.ok(failed.some((f) => f.run_id === call?.correlation_id));
    assert.ok((call?.attempt ?? 0) > 1, 'the client retried the call before the run failed');
    const syncFailed = (await runEvents('SyncFailed')).filter((e) =>
      failed.some((f) => f.run_id === (e.data as { syncRunId: string }).syncRunId),
    );
    assert.ok(syncFailed.length >= 2, 'a SyncFailed per failed run');
    for (const e of syncFailed) {
      const d = e.data as { willRetry: boolean; error: { category: string } };
      assert.deepEqual([d.willRetry, d.error.category], [true, 'server'], 'failed, to be retried by itself');
    }

    await sim.clearFaults();
    const recovered = await stack.waitForRun(
      realmId,
      { mode: 'cdc', status: 'completed', after: since },
      120_000,
    );
    const [closed] = (await errorRows(realmId)).filter((r) => r.kind === 'run');
    assert.deepEqual([closed?.resolved_by, closed?.resolved_at !== null], ['run_completed', true]);
    assert.ok(recovered.run_id);
  });
});
