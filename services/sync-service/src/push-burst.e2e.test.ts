import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEventFactory, UpsertRecord } from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

/**
 * A burst of write-back commands across many orgs. The suite runs 10 orgs × 20 commands; the form,
 * 50 orgs × 20 = 1,000 commands, is the same test with `PUSH_BURST_ORGS=50` (a few minutes on this machine).
 */
const ORGS = Number(process.env.PUSH_BURST_ORGS ?? 10);
const PER_ORG = Number(process.env.PUSH_BURST_PER_ORG ?? 20);

let sim: SimulatorUnderTest;
let stack: SyncStack;
const orgs: { orgId: string; realmId: string; connectionId: string }[] = [];
const commands = createEventFactory({ source: 'push-burst' });

before(async () => {
  sim = await startSimulator(['--seed', '23', '--companies', String(ORGS), '--records', '5']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_MAX_CONCURRENT_RUNS: '8' });
  for (const realmId of sim.realmIds) {
    const orgId = newOrg();
    orgs.push({ orgId, realmId, connectionId: await stack.connect(realmId, orgId) });
  }
  for (const o of orgs) await stack.waitForRun(o.realmId, { mode: 'initial', status: 'completed' }, 180_000);
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

describe('a burst of write-back commands', () => {
  it(`${ORGS * PER_ORG} commands across ${ORGS} orgs: every one pushed, no 429 at the simulator`, {
    timeout: 600_000,
  }, async () => {
    const burst = orgs.flatMap((o) =>
      Array.from({ length: PER_ORG }, (_, i) =>
        commands(UpsertRecord, {
          orgId: o.orgId,
          data: {
            connectionId: o.connectionId,
            entity: 'Customer',
            sparse: true,
            payload: { DisplayName: `Burst ${o.orgId} ${i}` },
          },
        }),
      ),
    );
    // Interleaved across orgs, as many producers would send them.
    const order = burst.map((_, i) => burst[(i % ORGS) * PER_ORG + Math.floor(i / ORGS)]);
    await stack.publish(order as typeof burst);
    await waitFor(
      async () => {
        const [row] = await stack.db.query<{ n: number }>(
          "select count(*)::int as n from sync.sync_push where status = 'pushed'",
        );
        return row?.n === burst.length;
      },
      { timeoutMs: 540_000, intervalMs: 500, what: `${burst.length} commands pushed` },
    );
    const counters = await sim.counters();
    for (const o of orgs) {
      for (const [endpoint, c] of Object.entries(counters[o.realmId] ?? {})) {
        assert.equal(c.statuses['429'] ?? 0, 0, `${o.realmId} ${endpoint}: 429 answers`);
        assert.deepEqual(c.throttled, {}, `${o.realmId} ${endpoint}: throttled`);
      }
      const companies = await sim.companies();
      const count = companies.find((c) => c.realmId === o.realmId)?.counts.Customer ?? 0;
      assert.ok(count >= PER_ORG, `${o.realmId}: ${count} customers`);
    }
  });
});
