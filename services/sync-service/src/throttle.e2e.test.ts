import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { apiCalls, type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const PAGE = 200;
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '26', '--companies', '1', '--records', '3000']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_PAGE_SIZE: String(PAGE) });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

interface LogRow {
  at: Date;
  status: number | null;
  attempt: number;
  budget_wait_ms: number;
  retry_delay_ms: number;
}

describe('a 429 in the middle of a load', () => {
  it('pauses the realm for Intuit’s minute, then the load goes on: one 429, no retry storm, nothing lost', {
    timeout: 240_000,
  }, async (t) => {
    const realmId = sim.realmIds[0] as string;
    await stack.connect(realmId, newOrg());
    await waitFor(
      async () =>
        (
          await stack.db.query(
            `select 1 from sync.sync_run where realm_id = $1 and mode = 'initial' and pages >= 3`,
            [realmId],
          )
        ).length > 0,
      { timeoutMs: 60_000, intervalMs: 20, what: 'three pages of the load' },
    );
    await sim.addFault({ kind: '429', realmId, endpoint: 'query', times: 1 });
    const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 200_000);
    // A run ends only once its calls are in the API log: read now, the log holds every attempt the simulator
    // saw (every call but CDC is this run's).
    const [counters, rows] = await Promise.all([
      sim.counters(),
      stack.db.query<LogRow>(
        `select at, status, attempt, budget_wait_ms, retry_delay_ms from sync.qbo_api_log
         where correlation_id = $1 order by at, id`,
        [run.run_id],
      ),
    ]);
    const cdc = counters[realmId]?.cdc?.calls ?? 0;
    assert.equal(
      apiCalls(counters, realmId) - cdc,
      rows.length,
      'the simulator saw exactly the logged attempts',
    );

    const statuses = counters[realmId]?.query?.statuses ?? {};
    assert.equal(statuses['429'], 1, 'one 429, the injected one');
    assert.deepEqual(counters[realmId]?.query?.throttled ?? {}, {}, "Intuit's own limits never tripped");

    const i = rows.findIndex((r) => r.status === 429);
    const throttled = rows[i] as LogRow;
    const next = rows[i + 1] as LogRow;
    const pausedMs = new Date(next.at).getTime() - new Date(throttled.at).getTime();
    t.diagnostic(
      `429 at call ${i + 1} of ${rows.length}; next call ${pausedMs} ms later (retry delay ${throttled.retry_delay_ms} ms)`,
    );
    assert.ok(pausedMs >= 59_000, `the realm paused ${pausedMs} ms after the 429`);
    assert.equal(next.status, 200, 'the same call then succeeds');
    // Every call of the run is a page, a COUNT or a re-read of a boundary second: the 429 cost one call more.
    const pages = (await sim.companies())
      .filter((c) => c.realmId === realmId)
      .flatMap((c) => DEFAULT_SYNC_ENTITIES.map((e) => Math.ceil((c.counts[e] ?? 0) / PAGE)))
      .reduce((a, b) => a + b, 0);
    assert.ok(run.api_calls <= pages + 2 * DEFAULT_SYNC_ENTITIES.length + 1, `${run.api_calls} calls`);

    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
    await stack.idle(realmId);
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES), []);
  });
});
