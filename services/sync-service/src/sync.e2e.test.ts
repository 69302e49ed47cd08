import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@qbo/events';
import {
  type Counters,
  callsTo,
  type SimulatorUnderTest,
  startSimulator,
} from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
let sim: SimulatorUnderTest;
let stack: SyncStack;

const realmCalls = (c: Counters, realmId: string, endpoint: string) => c[realmId]?.[endpoint]?.calls ?? 0;
const statuses = (c: Counters, realmId: string) =>
  Object.values(c[realmId] ?? {}).flatMap((e) => Object.keys(e.statuses ?? {}));

before(async () => {
  // Intuit's limits are on: 500 calls a minute, 10 a second and 10 in flight per realm.
  sim = await startSimulator(['--seed', '16', '--companies', '2', '--records', '20000']);
  stack = await startSyncStack(sim);
  await stack.startReplica();
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const recordEvents = (messages: { value: AnyEnvelope | null }[], realmId: string) =>
  messages
    .map((m) => m.value)
    .filter((v): v is AnyEnvelope => v !== null && v.realmId === realmId && v.type.startsWith('Record'));

describe('sync-service against the simulator', () => {
  it('loads 20k records over six entities within the budget: every record on the change log, no 429', async () => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    const before = await sim.counters();
    await stack.connect(realmId, orgId);
    const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 110_000);
    const after = await sim.counters();

    const company = (await sim.companies()).find((c) => c.realmId === realmId);
    const expected = Object.fromEntries(SIX.map((e) => [e, company?.counts[e] ?? 0]));
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    assert.ok(total >= 20_000, `seeded ${total}`);

    const log = recordEvents(await stack.readAll(topics.records), realmId);
    const upserts = log.filter((e) => e.type === 'RecordUpserted');
    for (const entity of SIX) {
      const ids = new Set(
        upserts
          .filter((e) => (e.data as { entity: string }).entity === entity)
          .map((e) => (e.data as { entityId: string }).entityId),
      );
      assert.equal(ids.size, expected[entity], `${entity}: every record on the change log`);
    }
    const seqs = log.map((e) => BigInt((e.data as { seq: string }).seq));
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => BigInt(i + 1)),
      'sequence numbers contiguous from 1',
    );
    assert.equal(log[0]?.type, 'RecordSnapshotStarted');
    assert.equal(log.at(-1)?.type, 'RecordSnapshotCompleted');

    const pages = SIX.reduce((n, e) => n + Math.ceil((expected[e] as number) / 1000), 0);
    const queries = realmCalls(after, realmId, 'query') - realmCalls(before, realmId, 'query');
    assert.ok(queries <= 1.02 * pages + SIX.length + 2, `${queries} query calls for ${pages} pages`);
    assert.equal(run.api_calls, queries, 'the run row counts the calls the simulator saw');
    assert.ok(!statuses(after, realmId).includes('429'), 'no 429 received');
  });
});

void callsTo;
