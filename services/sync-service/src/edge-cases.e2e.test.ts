import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServiceProcess, waitFor } from '@qbo/testkit';
import { lastUpdatedOf } from './domain/qbo-time.js';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { recordEvents } from './testing/feed-reading.js';
import { edits } from './testing/qbo-changes.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
let sim: SimulatorUnderTest;
let stack: SyncStack;
let replica: ServiceProcess;

before(async () => {
  // Each company: 6,000 records, of which 1,800 invoices and 2,400 customers; Intuit's limits on.
  sim = await startSimulator(['--seed', '17', '--companies', '3', '--records', '6000']);
  stack = await startSyncStack(sim);
  replica = await stack.startReplica();
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const runningLoad = async (realmId: string) =>
  (
    await stack.db.query<{ pages: number; status: string }>(
      `select pages, status from sync.sync_run where realm_id = $1 and mode = 'initial'
       order by started_at desc limit 1`,
      [realmId],
    )
  )[0];

const idsOf = async (realmId: string, entity: string) =>
  [...(await simulatorRecords(sim, realmId, entity)).keys()].sort((a, b) => Number(a) - Number(b));

/** The mirror against the simulator; the test's own reads need the poison lifted, then it is armed again. */
async function differencesUnpoisoned(realmId: string, poisoned: readonly string[]) {
  await sim.clearFaults();
  const differences = await mirrorDifferences(stack, sim, realmId, SIX);
  for (const recordId of poisoned)
    await sim.addFault({ kind: 'poison', realmId, entity: 'Invoice', recordId });
  return differences;
}

describe('sync-service edge cases against the simulator', () => {
  it('skips no record when records change while the initial load pages through them', async () => {
    const realmId = sim.realmIds[0] as string;
    const customers = (await idsOf(realmId, 'Customer')).filter((_, i) => i % 20 === 0);
    const invoices = (await idsOf(realmId, 'Invoice')).filter((_, i) => i % 20 === 0);
    // Slow Intuit down so the changes land while the load is between its pages.
    await sim.addFault({ kind: 'latency', realmId, endpoint: 'query', latencyMs: 300 });
    await stack.connect(realmId, newOrg());
    await waitFor(async () => ((await runningLoad(realmId))?.pages ?? 0) >= 2, {
      timeoutMs: 60_000,
      what: 'two pages of the load committed',
    });
    await sim.bulk(realmId, [...edits('Customer', customers, 'mid'), ...edits('Invoice', invoices, 'mid')]);
    assert.equal((await runningLoad(realmId))?.status, 'running', 'the changes landed during the load');
    await sim.clearFaults();
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
  });

  it('skips none of 1,500 records sharing one second across pages and a load killed inside them', async () => {
    const realmId = sim.realmIds[1] as string;
    const orgId = newOrg();
    const tie = Math.floor(((await sim.clock()) - 30_000) / 1_000) * 1_000;
    const group = (await idsOf(realmId, 'Invoice')).slice(0, 1_500);
    const stamped = await sim.bulk(realmId, edits('Invoice', group, 'tie'), new Date(tie).toISOString());
    assert.equal(stamped.applied, 1_500);
    await sim.addFault({ kind: 'latency', realmId, endpoint: 'query', latencyMs: 500 });
    await stack.connect(realmId, orgId);
    // The Invoice cursor reaches the tie second after a page that ends inside the group: kill -9 there.
    await waitFor(
      async () => {
        const rows = await stack.db.query<{ cursor_at: Date | null; done: boolean }>(
          `select cursor_at, done from sync.load_checkpoint where realm_id = $1 and entity = 'Invoice'`,
          [realmId],
        );
        const at = rows[0]?.cursor_at;
        return at !== null && at !== undefined && new Date(at).getTime() === tie && rows[0]?.done === false;
      },
      { timeoutMs: 90_000, intervalMs: 20, what: 'the load inside the tie group' },
    );
    await replica.stop('SIGKILL');
    const [held] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.mirror_record where realm_id = $1 and entity = 'Invoice'
         and last_updated = $2`,
      [realmId, new Date(tie).toISOString()],
    );
    await sim.clearFaults();
    const restarted = new Date();
    replica = await stack.startReplica();
    assert.ok((held?.n ?? 0) > 0 && (held?.n ?? 0) < 1_500, `the killed run held ${held?.n} of the group`);
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed', after: restarted });
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: restarted });
    const [all] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.mirror_record where realm_id = $1 and entity = 'Invoice'
         and last_updated = $2 and payload->>'PrivateNote' like 'tie-%'`,
      [realmId, new Date(tie).toISOString()],
    );
    assert.equal(all?.n, 1_500, 'the mirror holds the whole group');
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
    const log = await recordEvents(stack, realmId);
    const onLog = new Set(
      log
        .filter((e) => e.type === 'RecordUpserted' && e.data.entity === 'Invoice')
        .map((e) => e.data.entityId),
    );
    assert.ok(
      group.every((id) => onLog.has(id)),
      'every record of the group on the change log',
    );
    // At least once: an event published again after the kill carries the same id.
    const ids = new Map<bigint, string>();
    for (const e of log) {
      const seq = BigInt(e.data.seq);
      assert.equal(ids.get(seq) ?? e.id, e.id, `seq ${seq} is one event`);
      ids.set(seq, e.id);
    }
    const seqs = [...ids.keys()].sort((a, b) => (a < b ? -1 : 1));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => BigInt(i + 1)),
      'sequence numbers contiguous across the kill',
    );
  });

  it('narrows a poisoned record down to its place in a load and in a CDC delta, and completes around it', {
    timeout: 240_000,
  }, async () => {
    const realmId = sim.realmIds[2] as string;
    const orgId = newOrg();
    const invoices = await simulatorRecords(sim, realmId, 'Invoice');
    const ids = [...invoices.keys()].sort((a, b) => Number(a) - Number(b));
    const first = ids[700] as string;
    const second = lastUpdatedOf(invoices.get(first) as Record<string, unknown>) as number;
    await sim.addFault({ kind: 'poison', realmId, entity: 'Invoice', recordId: first });
    const connectionId = await stack.connect(realmId, orgId);
    const load = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });

    const errors = async () =>
      stack.db.query<{
        entity: string;
        entity_id: string | null;
        range_from: Date;
        position: number | null;
        code: string;
        category: string;
        first_run_id: string;
        last_run_id: string;
        attempts: number;
      }>(
        `select entity, entity_id, range_from, position, code, category, first_run_id, last_run_id, attempts
         from sync.sync_error where realm_id = $1 order by first_seen_at`,
        [realmId],
      );
    const [inLoad] = await errors();
    assert.equal(inLoad?.entity, 'Invoice');
    assert.equal(
      new Date(inLoad?.range_from as Date).getTime(),
      Math.floor(second / 1000) * 1000,
      'its second',
    );
    assert.ok((inLoad?.position ?? 0) >= 1, 'and its position by Id within it');
    assert.deepEqual(
      [inLoad?.code, inLoad?.category, inLoad?.first_run_id],
      ['4002', 'validation', load.run_id],
    );
    assert.deepEqual(
      await differencesUnpoisoned(realmId, [first]),
      [{ entity: 'Invoice', entityId: first, problem: 'missing_in_mirror' }],
      'everything else loaded',
    );

    // A change Intuit cannot return makes the whole CDC window fail: the delta still finds the others.
    const other = ids.slice(10, 15);
    const poisoned = ids[20] as string;
    await sim.bulk(realmId, [
      ...edits('Invoice', [...other, poisoned], 'delta'),
      ...edits('Customer', ['1', '2'], 'delta'),
    ]);
    await sim.addFault({ kind: 'poison', realmId, entity: 'Invoice', recordId: poisoned });
    const since = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    const delta = await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: since });
    assert.equal(delta.upserted, other.length + 2, 'every readable change');
    const inDelta = (await errors()).filter((r) => r.first_run_id === delta.run_id);
    assert.equal(inDelta.length, 1, 'one error row for the delta');
    assert.equal(inDelta[0]?.code, '4002');
    // The failing window is narrowed by halving the entity list (6 → 3 → 2 → 1); the rest came by CDC.
    assert.equal((await sim.counters())[realmId]?.cdc?.statuses?.['400'], 4, 'CDC windows holding it failed');
    // CDC could not report the invoices' deletes in that window, so a reconciliation follows: it meets the
    // record again, completes, and takes nothing for deleted.
    const check = await stack.waitForRun(realmId, {
      mode: 'reconciliation',
      status: 'completed',
      after: since,
    });
    assert.equal(check.deleted, 0, 'nothing deleted');
    assert.ok((await errors()).some((r) => r.last_run_id === check.run_id && r.attempts >= 1));
    const differences = await differencesUnpoisoned(realmId, [first, poisoned]);
    assert.deepEqual(
      differences.map((d) => [d.entityId, d.problem]).sort(),
      [
        [first, 'missing_in_mirror'],
        [poisoned, 'different_content'],
      ].sort(),
    );
    await stack.drained();
    const completed = (await stack.readAll(topics.syncRuns))
      .map((m) => m.value)
      .find(
        (v) => v?.type === 'SyncCompleted' && (v.data as { syncRunId: string }).syncRunId === delta.run_id,
      );
    assert.equal(
      (completed?.data as { failedItems?: number } | undefined)?.failedItems,
      1,
      'the run reports the record',
    );
  });
});
