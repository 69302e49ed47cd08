import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServiceProcess, waitFor } from '@qbo/testkit';
import { simulatorRecords } from './testing/compare.js';
import type { SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;
let replica: ServiceProcess;

before(async () => {
  sim = await startSimulator(['--seed', '41', '--companies', '1', '--records', '400']);
  stack = await startSyncStack(sim);
  replica = await stack.startReplica({ METRICS_PORT: '0' });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parseExposition(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith('#')) return [];
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    return [{ name: m[1] as string, labels, value: Number(m[3]) }];
  });
}

async function scrape(): Promise<Sample[]> {
  const listening = replica.logs.find((l) => l.msg === 'metrics server listening');
  assert.ok(listening, 'the replica opened its metrics port');
  const res = await fetch(`http://127.0.0.1:${listening.port}/metrics`);
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

/** The sum of the samples named `name` whose labels include `match`. */
const total = (samples: Sample[], name: string, match: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

interface RunTotals {
  mode: string;
  status: string;
  runs: number;
  records: number;
  calls: number;
}

const runTotals = () =>
  stack.db.query<RunTotals>(
    `select mode, status, count(*)::int as runs, sum(upserted + deleted + unchanged)::int as records,
       sum(api_calls)::int as calls
     from sync.sync_run where status <> 'running' group by 1, 2 order by 1, 2`,
  );

describe('sync metrics on the Prometheus endpoint', () => {
  it('count the runs, their records and calls, the attempts at Intuit and the open errors as the tables hold them', {
    timeout: 180_000,
  }, async () => {
    const realmId = sim.realmIds[0] as string;
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()];
    await sim.addFault({
      kind: 'poison',
      realmId,
      entity: 'Customer',
      recordId: customers[7] as string,
      code: '4002',
    });
    await stack.connect(realmId, newOrg());
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 120_000);
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
    // A run ending, or a call made, between the reads of the tables and of the endpoint would be counted on one
    // side only: the scrape is taken again until the tables held still around it. The API log is written in
    // batches every second, so its count is read once more after that.
    const apiLogRows = async () =>
      (await stack.db.query<{ n: number }>('select count(*)::int as n from sync.qbo_api_log'))[0]?.n ?? 0;
    let attempts = 0;
    let runs: RunTotals[] = [];
    let samples: Sample[] = [];
    let ageBefore = 0;
    let ageAfter = 0;
    await waitFor(
      async () => {
        const age = async () =>
          (
            await stack.db.query<{ ms: number }>(
              `select (extract(epoch from now() - last_synced_at) * 1000)::float8 as ms from sync.sync_target`,
            )
          )[0]?.ms ?? Number.NaN;
        runs = await runTotals();
        const callsBefore = await apiLogRows();
        ageBefore = await age();
        samples = await scrape();
        ageAfter = await age();
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        attempts = await apiLogRows();
        return JSON.stringify(await runTotals()) === JSON.stringify(runs) && attempts === callsBefore;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'no run ending and no call made during the scrape' },
    );
    const completed = runs.filter((r) => r.status === 'completed');
    assert.ok(completed.some((r) => r.mode === 'initial') && completed.some((r) => r.mode === 'cdc'));

    for (const r of runs) {
      assert.equal(
        total(samples, 'qbo_sync_runs_total', { mode: r.mode, outcome: r.status }),
        r.runs,
        `${r.mode} runs ${r.status}`,
      );
      assert.equal(
        total(samples, 'qbo_sync_run_duration_count', { mode: r.mode, outcome: r.status }),
        r.runs,
      );
    }
    for (const r of completed) {
      assert.equal(total(samples, 'qbo_sync_run_records_count', { mode: r.mode }), r.runs, `${r.mode} runs`);
      assert.equal(
        total(samples, 'qbo_sync_run_records_sum', { mode: r.mode }),
        r.records,
        `${r.mode} records`,
      );
      assert.equal(
        total(samples, 'qbo_sync_run_api_calls_sum', { mode: r.mode }),
        r.calls,
        `${r.mode} calls`,
      );
    }
    const load = completed.find((r) => r.mode === 'initial') as RunTotals;
    assert.ok(load.records > 300, `the load read the company (${load.records} records)`);
    assert.equal(total(samples, 'qbo_sync_run_calls_per_record_count', { mode: 'initial' }), load.runs);
    assert.ok(
      Math.abs(
        total(samples, 'qbo_sync_run_calls_per_record_sum', { mode: 'initial' }) - load.calls / load.records,
      ) < 1e-9,
      'calls per record of the one load',
    );

    // Every attempt at Intuit is one budget-wait observation, the same attempts qbo_api_log holds.
    assert.equal(total(samples, 'qbo_sync_budget_wait_count'), attempts);
    const [{ n: queries } = { n: 0 }] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.qbo_api_log where operation = 'query'`,
    );
    assert.ok(queries > 0);
    assert.equal(total(samples, 'qbo_sync_budget_wait_count', { operation: 'query' }), queries);

    // Open errors by kind and category, as sync_error holds them: the poisoned customer.
    const open = await stack.db.query<{ kind: string; category: string; n: number }>(
      'select kind, category, count(*)::int as n from sync.sync_error where resolved_at is null group by 1, 2',
    );
    assert.deepEqual(open, [{ kind: 'record', category: 'validation', n: 1 }]);
    assert.deepEqual(
      samples
        .filter((s) => s.name === 'qbo_sync_errors_open')
        .map((s) => ({ kind: s.labels.kind, category: s.labels.category, n: s.value })),
      open,
    );

    // Freshness: the company's age since its last completed sync, read while the scrape ran.
    const oldest = total(samples, 'qbo_sync_oldest_sync_age');
    assert.ok(
      oldest >= ageBefore - 1 && oldest <= ageAfter + 1,
      `${oldest} ms between ${ageBefore} and ${ageAfter}`,
    );
    // The same age per connection, for the stalest companies (here the only one).
    const [{ connection_id: connectionId } = { connection_id: '' }] = await stack.db.query<{
      connection_id: string;
    }>('select connection_id::text from sync.sync_target');
    const perConnection = samples.filter((s) => s.name === 'qbo_sync_connection_sync_age');
    assert.deepEqual(
      perConnection.map((s) => s.labels.connection),
      [connectionId],
    );
    const fresh = perConnection[0]?.value ?? Number.NaN;
    assert.ok(
      fresh >= ageBefore - 1 && fresh <= ageAfter + 1,
      `${fresh} ms between ${ageBefore} and ${ageAfter}`,
    );
    assert.equal(total(samples, 'qbo_sync_connections', { paused: 'false' }), 1);
    assert.equal(total(samples, 'qbo_sync_connections', { paused: 'true' }), 0);

    // The event bus's own gauges reach the same endpoint: the relay's outbox age and the consumers' lag.
    assert.ok(
      samples.some((s) => s.name === 'qbo_outbox_oldest_unsent_age' && s.labels.db_namespace === 'sync'),
      'the outbox age of the sync schema',
    );
    assert.ok(
      samples.some((s) => s.name === 'messaging_kafka_consumer_lag'),
      'the consumer lag of the sync consumers',
    );
  });
});
