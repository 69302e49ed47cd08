import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@qbo/events';
import { mirrorDifferences } from './testing/compare.js';
import {
  apiCalls,
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

const UPDATE_FIELD: Record<string, string> = {
  Customer: 'CompanyName',
  Vendor: 'CompanyName',
  Item: 'Description',
  Account: 'Description',
  Invoice: 'PrivateNote',
  Payment: 'PrivateNote',
};
const update = (entity: string, id: string, value: string) => ({
  op: 'update',
  entity,
  id,
  data: { [UPDATE_FIELD[entity] as string]: value },
});

interface Company {
  realmId: string;
  orgId: string;
  connectionId: string;
}
let a: Company;

/** Ids of one entity as the mirror holds them, oldest first. */
const mirrorIds = async (realmId: string, entity: string, limit: number) =>
  (
    await stack.db.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = $2 and deleted_at is null
       order by entity_id::int limit $3`,
      [realmId, entity, limit],
    )
  ).map((r) => r.entity_id);

/** Runs an incremental sync now and returns the calls the simulator saw for the realm meanwhile. */
async function delta(c: Company, trigger: () => Promise<void>) {
  const before = await sim.counters();
  const since = new Date();
  await trigger();
  const run = await stack.waitForRun(c.realmId, { mode: 'cdc', status: 'completed', after: since });
  const after = await sim.counters();
  return {
    run,
    cdc: realmCalls(after, c.realmId, 'cdc') - realmCalls(before, c.realmId, 'cdc'),
    query: realmCalls(after, c.realmId, 'query') - realmCalls(before, c.realmId, 'query'),
    read: realmCalls(after, c.realmId, 'read') - realmCalls(before, c.realmId, 'read'),
  };
}

describe('sync-service against the simulator', () => {
  it('loads 20k records over six entities within the budget: every record on the change log, no 429', async (t) => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    const before = await sim.counters();
    a = { realmId, orgId, connectionId: await stack.connect(realmId, orgId) };
    const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 110_000);
    const after = await sim.counters();

    const company = (await sim.companies()).find((c) => c.realmId === realmId);
    const expected = Object.fromEntries(SIX.map((e) => [e, company?.counts[e] ?? 0]));
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    assert.ok(total >= 20_000, `seeded ${total}`);

    // The delta that follows a load picks up what changed while it ran; the reads below compare with the
    // simulator once the sync is idle, so they never share the realm's per-second limit with it.
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
    await stack.drained();
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
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
    const hashes = new Map(
      upserts.map((e) => {
        const d = e.data as { entity: string; entityId: string; contentHash: string };
        return [`${d.entity}/${d.entityId}`, d.contentHash];
      }),
    );
    const mirror = await stack.db.query<{ key: string; content_hash: string }>(
      `select entity || '/' || entity_id as key, content_hash from sync.mirror_record where realm_id = $1`,
      [realmId],
    );
    assert.ok(
      mirror.every((r) => hashes.get(r.key) === r.content_hash),
      'each record as mirrored on the log',
    );
    assert.equal(log[0]?.type, 'RecordSnapshotStarted');
    assert.equal(log.at(-1)?.type, 'RecordSnapshotCompleted');

    const pages = SIX.reduce((n, e) => n + Math.ceil((expected[e] as number) / 1000), 0);
    // Every Accounting API call of the realm but CDC (the load makes none; the delta after it may have begun).
    const queries =
      apiCalls(after, realmId) -
      apiCalls(before, realmId) -
      (realmCalls(after, realmId, 'cdc') - realmCalls(before, realmId, 'cdc'));
    // Beyond the pages: one `/batch` call counting every entity (the estimate, and Intuit's clock), and per entity
    // at most one page more, because each page re-reads the records of its boundary second rather than risk
    // skipping them (small entities read together in a `/batch` call only lower it).
    const bound = 1.02 * pages + SIX.length + 1;
    t.diagnostic(`${total} records; ${queries} calls; sum of ceil(N/1000) ${pages}; bound ${bound}`);
    assert.ok(queries <= bound, `${queries} calls for ${pages} pages`);
    assert.equal(run.api_calls, queries, 'the run row counts the calls the simulator saw');
    assert.ok(!statuses(after, realmId).includes('429'), 'no 429 received');
  });

  it('finds 600 changes spread over six entities with exactly one CDC call', async () => {
    const changes = [];
    for (const entity of SIX) {
      for (const id of await mirrorIds(a.realmId, entity, 100)) changes.push(update(entity, id, `k-${id}`));
    }
    await sim.bulk(a.realmId, changes);
    const seqBefore = await lastSeq(a.orgId);
    const d = await delta(a, () => stack.requestSync(a.orgId, a.connectionId, 'incremental'));
    assert.equal(d.cdc, 1, 'one CDC call');
    assert.equal(d.query + d.read, 0, 'and nothing else');
    assert.equal(d.run.upserted, changes.length);
    await stack.drained();
    const log = recordEvents(await stack.readAll(topics.records), a.realmId).filter(
      (e) => BigInt((e.data as { seq: string }).seq) > seqBefore,
    );
    assert.equal(log.length, changes.length, 'each change once on the change log');
    assert.ok(log.every((e) => (e.data as { op: string }).op === 'u'));
  });

  it('finds all of 2,500 changes to one entity, beyond the CDC cap', async () => {
    const ids = await mirrorIds(a.realmId, 'Invoice', 2_500);
    await sim.bulk(
      a.realmId,
      ids.map((id) => update('Invoice', id, `cap-${id}`)),
    );
    const since = new Date();
    const d = await delta(a, () => stack.requestSync(a.orgId, a.connectionId, 'incremental'));
    assert.equal(d.run.upserted, 2_500);
    // Deleted stubs may have been cut with the overflow: the entity is reconciled right after.
    await stack.waitForRun(a.realmId, { mode: 'reconciliation', status: 'completed', after: since });
    const rows = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.mirror_record where realm_id = $1 and entity = 'Invoice'
         and payload->>'PrivateNote' like 'cap-%'`,
      [a.realmId],
    );
    assert.equal(rows[0]?.n, 2_500, 'the mirror holds every new version');
  });

  it('costs no call for a notification of a change the mirror already holds', async () => {
    const [row] = await stack.db.query<{ entity_id: string; last_updated: Date }>(
      `select entity_id, last_updated from sync.mirror_record where realm_id = $1 and entity = 'Customer' limit 1`,
      [a.realmId],
    );
    const before = await sim.counters();
    const seen = new Date();
    await stack.notify(a.orgId, a.realmId, [
      {
        entity: 'Customer',
        entityId: row?.entity_id as string,
        operation: 'Update',
        lastUpdated: new Date(row?.last_updated as Date).toISOString(),
      },
    ]);
    await stack.waitForInbox(seen);
    const [target] = await stack.db.query<{ wanted_at: Date | null }>(
      'select wanted_at from sync.sync_target where realm_id = $1',
      [a.realmId],
    );
    assert.equal(target?.wanted_at, null, 'the notification asked for no sync');
    // Past the debounce (1 s) and a few polls: a delta it had asked for would have reached the simulator.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.deepEqual((await sim.counters())[a.realmId], before[a.realmId], 'no call reached the simulator');
  });

  it('serves 50 notifications within the debounce window with one CDC call', async () => {
    const ids = await mirrorIds(a.realmId, 'Customer', 50);
    const result = await sim.bulk(
      a.realmId,
      ids.map((id) => update('Customer', id, `hook-${id}`)),
    );
    const d = await delta(a, () =>
      stack.notify(
        a.orgId,
        a.realmId,
        ids.map((id) => ({ entity: 'Customer', entityId: id, operation: 'Update', lastUpdated: result.at })),
      ),
    );
    assert.equal(d.cdc, 1);
    assert.equal(d.query + d.read, 0);
    assert.equal(d.run.upserted, 50);
    assert.deepEqual(
      await mirrorDifferences(stack, sim, a.realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
  });
});

async function lastSeq(orgId: string): Promise<bigint> {
  const rows = await stack.db.query<{ last_seq: string }>(
    'select last_seq::text from sync.org_seq where org_id = $1',
    [orgId],
  );
  return BigInt(rows[0]?.last_seq ?? '0');
}

void callsTo;
