import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const INTERVAL_MS = 2_000;
const RECONCILE_MS = 5_000;
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '27', '--companies', '1', '--records', '600']);
  stack = await startSyncStack(sim);
  await stack.startReplica({
    SYNC_INTERVAL_MS: String(INTERVAL_MS),
    SYNC_RECONCILE_INTERVAL_MS: String(RECONCILE_MS),
  });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

describe('the schedule', () => {
  it('runs a jittered delta every interval and a reconciliation every reconcile interval, unasked', {
    timeout: 120_000,
  }, async (t) => {
    const realmId = sim.realmIds[0] as string;
    await stack.connect(realmId, newOrg());
    const load = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
    await sleep(16_000);
    const runs = await stack.db.query<{ mode: string; trigger: string; started_at: Date }>(
      `select mode, trigger, started_at from sync.sync_run where realm_id = $1 and started_at > $2
       order by started_at`,
      [realmId, load.finished_at],
    );
    // Nothing but the schedule asks: the load's own follow-up delta is triggered by the connection.
    const scheduled = runs.filter((r) => r.trigger === 'schedule');
    const deltas = scheduled.filter((r) => r.mode === 'cdc').map((r) => new Date(r.started_at).getTime());
    const checks = runs.filter((r) => r.mode === 'reconciliation');
    const gaps = deltas.slice(1).map((at, i) => at - (deltas[i] as number));
    t.diagnostic(
      `${deltas.length} scheduled deltas, gaps ${gaps.join(', ')} ms; ${checks.length} reconciliations`,
    );
    assert.ok(deltas.length >= 5, `${deltas.length} scheduled deltas in 16 s`);
    // ±10 % of the interval, plus the claim's poll and the run itself.
    for (const gap of gaps)
      assert.ok(gap >= 0.9 * INTERVAL_MS && gap <= 1.1 * INTERVAL_MS + 1_000, `gap ${gap}`);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) > 20, 'the intervals are jittered, not all alike');
    assert.ok(checks.length >= 2, `${checks.length} reconciliations in 16 s`);
    assert.ok(
      runs.every((r) => r.trigger !== 'command' && r.trigger !== 'webhook'),
      'nothing was asked for',
    );
  });
});
