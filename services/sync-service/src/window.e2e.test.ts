import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mirrorDifferences } from './testing/compare.js';
import { answeredCalls, lastSeq, latestState, recordEvents } from './testing/feed-reading.js';
import { deleteAnInvoice, edits } from './testing/qbo-changes.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
const DAY_MS = 86_400_000;
const PAGE = 100;
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '18', '--companies', '1', '--records', '10000']);
  stack = await startSyncStack(sim);
  // Pages of 100 make this small company read like a large one: a full re-read is ~100 pages.
  await stack.startReplica({ SYNC_PAGE_SIZE: String(PAGE) });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

describe('a checkpoint older than CDC reaches', () => {
  it('syncs by windowed queries plus a reconciliation that finds a 31-day-old hard delete, far below a re-read', async (t) => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    const connectionId = await stack.connect(realmId, orgId);
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 120_000);
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });

    // Changed in QuickBooks just after the checkpoint: a hard delete and some edits, then 31 days pass.
    const victim = await deleteAnInvoice(stack, sim, realmId);
    const customers = await stack.db.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer' and entity_id <> $2
       order by entity_id::int limit 20`,
      [realmId, victim.customerId],
    );
    const early = customers.map((c) => c.entity_id);
    await sim.bulk(realmId, edits('Customer', early, 'early'));
    const jumped = await sim.clock(31 * DAY_MS);
    // And some after. The customer of the deleted invoice is among them: its balance moved without a version.
    const late = [victim.customerId, ...early.slice(0, 5)];
    await sim.bulk(realmId, edits('Customer', late, 'late'));
    // The windows end at the second of Intuit's answer; edits stamped in that very second belong to the next
    // delta. Two seconds on, these are plainly before it.
    await sim.clock(2_000);

    const seqBefore = await lastSeq(stack, orgId);
    const c0 = await sim.counters();
    const since = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    const delta = await stack.waitForRun(realmId, { mode: 'query', status: 'completed', after: since });
    const reconcile = await stack.waitForRun(realmId, {
      mode: 'reconciliation',
      status: 'completed',
      after: since,
    });
    const c1 = await sim.counters();

    // CDC was asked once and refused the cursor; the run then read by windows and says so.
    assert.equal(answeredCalls(c1, realmId, 'cdc') - answeredCalls(c0, realmId, 'cdc'), 1);
    assert.equal(c1[realmId]?.cdc?.statuses?.['400'], 1, 'Intuit refused the 31-day-old cursor');
    assert.equal(delta.upserted, early.length + 1, 'every edit on either side of the jump, each once');
    assert.equal(reconcile.deleted, 1);
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, SIX), [], 'nothing lost');

    const events = await recordEvents(stack, realmId, seqBefore);
    const deletes = events.filter((e) => e.type === 'RecordDeleted');
    assert.deepEqual(
      deletes.map((e) => [e.data.entity, e.data.entityId, e.data.reason, e.data.source.origin]),
      [['Invoice', victim.id, 'reconcile', 'reconcile']],
    );
    const state = await latestState(stack);
    const key = `${orgId}:${realmId}:Invoice:${victim.id}`;
    assert.ok(state.has(key) && state.get(key) === null, 'a tombstone on the state topic');
    const [target] = await stack.db.query<{ cdc_since: Date }>(
      'select cdc_since from sync.sync_target where realm_id = $1',
      [realmId],
    );
    assert.ok(
      new Date(target?.cdc_since as Date).getTime() >= jumped - 60_000,
      'the cursor moved, not clamped',
    );

    // The cost, counted by the simulator: both runs together, against the pages of one full re-read.
    const company = (await sim.companies()).find((c) => c.realmId === realmId);
    const fullRead = SIX.reduce((n, e) => n + Math.ceil((company?.counts[e] ?? 0) / PAGE), 0);
    const spent = (['query', 'cdc'] as const).reduce(
      (n, e) => n + answeredCalls(c1, realmId, e) - answeredCalls(c0, realmId, e),
      0,
    );
    assert.equal(spent, delta.api_calls + reconcile.api_calls, 'the run rows count what the simulator saw');
    t.diagnostic(
      `re-read ${fullRead} pages; query run ${delta.api_calls} calls, reconciliation ${reconcile.api_calls}`,
    );
    assert.ok(fullRead >= 90, `a full re-read is ${fullRead} pages`);
    assert.ok(
      reconcile.api_calls * 3 < fullRead,
      `reconciliation: ${reconcile.api_calls} calls, re-read ${fullRead}`,
    );
    assert.ok(spent * 2 < fullRead, `both runs: ${spent} calls`);
  });
});
