import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { feedProblems, orgLog } from './testing/feed-check.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const CAP = 2;
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  // One company of 15,000 records here, five of 300 added by the test, each its own org; Intuit's limits on.
  sim = await startSimulator(['--seed', '24', '--companies', '1', '--records', '15000']);
  stack = await startSyncStack(sim);
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

interface Sample {
  holder: string;
  running: number;
}

describe('several replicas sharing the companies', () => {
  it(`each replica runs at most ${CAP} at once, no org has two runs at a time, and the big company starves none`, {
    timeout: 240_000,
  }, async () => {
    const bigRealm = sim.realmIds[0] as string;
    const seeded = await fetch(`${sim.url}/_sim/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 25, companies: 5, records: 300 }),
    });
    assert.equal(seeded.status, 200);
    const smallRealms = ((await seeded.json()) as { realmIds: string[] }).realmIds;
    for (let i = 0; i < 2; i++) await stack.startReplica({ SYNC_MAX_CONCURRENT_RUNS: String(CAP) });

    const orgs = new Map<string, string>();
    for (const realmId of [bigRealm, ...smallRealms]) {
      const orgId = newOrg();
      orgs.set(realmId, orgId);
      await stack.connect(realmId, orgId);
    }

    // Live leases by holder while the loads run: what each replica is running.
    const samples: Sample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(
          ...(await stack.db.query<Sample>(
            `select holder, count(*)::int as running from sync.qbo_sync_sessions
             where expires_at > clock_timestamp() group by holder`,
          )),
        );
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const loads = new Map<string, Date>();
    try {
      for (const realmId of [bigRealm, ...smallRealms]) {
        const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 180_000);
        loads.set(realmId, run.finished_at as Date);
      }
    } finally {
      sampling = false;
      await sampler;
    }

    const peak = Math.max(...samples.map((s) => s.running));
    const holders = new Set(samples.map((s) => s.holder));
    assert.ok(peak <= CAP, `a replica held ${peak} leases at once`);
    assert.equal(holders.size, 2, 'both replicas ran syncs');

    const bigDone = (loads.get(bigRealm) as Date).getTime();
    for (const realmId of smallRealms) {
      assert.ok(
        (loads.get(realmId) as Date).getTime() < bigDone,
        `${realmId}: loaded before the big company finished`,
      );
    }

    // No org ever had two runs at once, whichever replica ran them.
    const overlaps = await stack.db.query(
      `select a.run_id from sync.sync_run a join sync.sync_run b on a.org_id = b.org_id and a.run_id <> b.run_id
       where a.started_at < coalesce(b.finished_at, 'infinity') and b.started_at < coalesce(a.finished_at, 'infinity')`,
    );
    assert.deepEqual(overlaps, [], 'runs of one org never overlap');

    for (const [realmId, orgId] of orgs) {
      await stack.idle(realmId);
      assert.deepEqual(
        await feedProblems(stack, orgId, await orgLog(stack, orgId)),
        [],
        `${realmId}: the feed`,
      );
      assert.deepEqual(await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES), [], realmId);
    }
  });
});
