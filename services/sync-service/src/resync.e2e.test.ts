import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { lastSeq, recordEvents } from './testing/feed-reading.js';
import { orgToken } from './testing/org-tokens.js';
import { edits } from './testing/qbo-changes.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
let sim: SimulatorUnderTest;
let stack: SyncStack;
let url = '';
let realmId = '';
let connectionId = '';
const orgId = newOrg();

type Event = Awaited<ReturnType<typeof recordEvents>>[number];
type Snapshot = { generation: number; mode: string; entities: string[]; runId: string };
const snapshotOf = (e: Event) => e.data as unknown as Snapshot;
const generationOf = (e: Event) => (e.data as { snapshot?: { generation: number } }).snapshot?.generation;

/** Waits until the company has no run in flight and no sync asked for. */
const idle = () =>
  waitFor(
    async () =>
      (
        await stack.db.query(
          `select 1 from sync.sync_target t where realm_id = $1 and wanted_at is null and not needs_load
             and not exists (select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.status = 'running')`,
          [realmId],
        )
      ).length > 0,
    { timeoutMs: 120_000, intervalMs: 100, what: `${realmId} idle` },
  );

before(async () => {
  sim = await startSimulator(['--seed', '41', '--companies', '1', '--records', '3000']);
  stack = await startSyncStack(sim);
  // Small pages: the resync takes long enough for changes to land while it reads.
  url = (await stack.startReplica({ SYNC_PAGE_SIZE: '40' })).url;
  realmId = sim.realmIds[0] as string;
  connectionId = await stack.connect(realmId, orgId);
  await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
  await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
  await idle();
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

/** Every record's events in log order: sequence numbers strictly increase, versions never go back. */
function assertNoRegression(events: Event[]): void {
  const last = new Map<string, { seq: bigint; version: number }>();
  for (const e of events) {
    if (!e.type.startsWith('RecordUpserted') && !e.type.startsWith('RecordDeleted')) continue;
    const key = `${e.data.entity}:${e.data.entityId}`;
    const seq = BigInt(e.data.seq);
    const token = (e.data.source as { syncToken?: string }).syncToken;
    const prev = last.get(key);
    const version = token === undefined ? (prev?.version ?? -1) : Number(token);
    if (prev) {
      assert.ok(seq > prev.seq, `${key}: seq ${seq} after ${prev.seq}`);
      assert.ok(version >= prev.version, `${key}: version ${version} after ${prev.version}`);
    }
    last.set(key, { seq, version });
  }
}

describe('a resync of one entity', () => {
  it('emits a snapshot generation of Invoice alone with every invoice, deletes what Intuit lacks, and loses and regresses nothing while changes and webhooks continue', async () => {
    const invoices = [...(await simulatorRecords(sim, realmId, 'Invoice')).keys()];
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()];
    // A record the mirror holds but Intuit no longer has (a delete no CDC answer reported).
    const [model] = await stack.db.query<Record<string, unknown>>(
      `select * from sync.mirror_record where realm_id = $1 and entity = 'Invoice' and deleted_at is null limit 1`,
      [realmId],
    );
    await stack.db.query(
      `insert into sync.mirror_record (org_id, realm_id, entity, entity_id, connection_id, payload, sync_token,
         last_updated, active, voided, content_hash, seq)
       values ($1, $2, 'Invoice', '990001', $3, $4, '0', $5, null, false, $6, $7)`,
      [orgId, realmId, connectionId, model?.payload, model?.last_updated, model?.content_hash, model?.seq],
    );
    const before = await lastSeq(stack, orgId);
    const [{ generation: generationBefore } = { generation: 0 }] = await stack.db.query<{
      generation: number;
    }>('select generation from sync.sync_target where realm_id = $1', [realmId]);

    // Changes at Intuit, notified as webhook-ingest would, until the resync is over and a while after.
    let changing = true;
    let round = 0;
    const changedAt: number[] = [];
    const changer = (async () => {
      while (changing) {
        round++;
        const pick = (ids: string[], n: number) =>
          Array.from({ length: n }, (_, i) => ids[(round * 7 + i * 13) % ids.length] as string);
        const batch = [
          ...edits('Invoice', [...new Set(pick(invoices, 4))], `r${round}`),
          ...edits('Customer', [...new Set(pick(customers, 2))], `r${round}`),
        ];
        const done = await sim.bulk(realmId, batch);
        changedAt.push(Date.now());
        await stack.notify(
          orgId,
          realmId,
          batch.map((c) => ({ entity: c.entity, entityId: c.id, operation: 'Update', lastUpdated: done.at })),
        );
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    await new Promise((r) => setTimeout(r, 1000));
    const asked = new Date();
    const answer = await callApi(url, 'POST', `/connections/${connectionId}/sync`, {
      token: await orgToken(orgId),
      body: { mode: 'full', entity: 'Invoice' },
    });
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    const resync = await stack.waitForRun(
      realmId,
      { mode: 'initial', status: 'completed', after: asked },
      180_000,
    );
    const [row] = await stack.db.query<{ entities: string[]; generation: number; trigger: string }>(
      'select entities, generation, trigger from sync.sync_run where run_id = $1',
      [resync.run_id],
    );
    assert.deepEqual(row?.entities, ['Invoice']);
    assert.equal(row?.trigger, 'command');
    // Deltas go on after it, with the changes made meanwhile.
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: resync.finished_at as Date });
    await new Promise((r) => setTimeout(r, 1500));
    changing = false;
    await changer;
    const during = changedAt.filter(
      (t) => t > new Date(resync.started_at).getTime() && t < new Date(resync.finished_at as Date).getTime(),
    );
    assert.ok(during.length >= 2, `changes landed while the resync read (${during.length} rounds)`);
    const lastChange = new Date();
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: lastChange }, 60_000);
    await idle();

    const events = await recordEvents(stack, realmId, before);
    const started = events.filter((e) => e.type === 'RecordSnapshotStarted');
    const completed = events.filter((e) => e.type === 'RecordSnapshotCompleted');
    assert.equal(started.length, 1, 'one snapshot started');
    assert.equal(completed.length, 1, 'one snapshot completed');
    const [s0, s1] = [started[0] as Event, completed[0] as Event];
    for (const e of [s0, s1]) {
      assert.deepEqual(snapshotOf(e).entities, ['Invoice']);
      assert.equal(snapshotOf(e).mode, 'resync');
      assert.equal(snapshotOf(e).generation, generationBefore + 1);
    }
    const generation = generationBefore + 1;
    const inside = events.filter(
      (e) => BigInt(e.data.seq) > BigInt(s0.data.seq) && BigInt(e.data.seq) < BigInt(s1.data.seq),
    );
    assert.deepEqual(
      [...new Set(inside.map((e) => e.data.entity))],
      ['Invoice'],
      'only invoices inside the snapshot',
    );
    const read = new Set(
      inside.filter((e) => e.data.op === 'r' && generationOf(e) === generation).map((e) => e.data.entityId),
    );
    const atIntuit = [...(await simulatorRecords(sim, realmId, 'Invoice')).keys()];
    assert.deepEqual(
      atIntuit.filter((id) => !read.has(id)),
      [],
      'every invoice in the generation',
    );
    assert.equal(read.size, atIntuit.length);
    const gone = inside.filter((e) => e.type === 'RecordDeleted');
    assert.deepEqual(
      gone.map((e) => [e.data.entityId, e.data.reason]),
      [['990001', 'reconcile']],
    );
    assert.ok(
      events.some((e) => e.data.entity === 'Customer' && e.data.op === 'u'),
      'customers changed by deltas',
    );

    assertNoRegression(await recordEvents(stack, realmId));
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, SIX), []);
  });

  it('takes the RequestSync command for one entity the same way', async () => {
    const before = await lastSeq(stack, orgId);
    const asked = new Date();
    await stack.requestSync(orgId, connectionId, 'full', ['Vendor']);
    const run = await stack.waitForRun(
      realmId,
      { mode: 'initial', status: 'completed', after: asked },
      120_000,
    );
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: run.finished_at as Date });
    await idle();
    const events = await recordEvents(stack, realmId, before);
    const brackets = events.filter((e) => e.type.startsWith('RecordSnapshot'));
    assert.deepEqual(
      brackets.map((e) => [e.type, snapshotOf(e).mode, snapshotOf(e).entities]),
      [
        ['RecordSnapshotStarted', 'resync', ['Vendor']],
        ['RecordSnapshotCompleted', 'resync', ['Vendor']],
      ],
    );
    const vendors = [...(await simulatorRecords(sim, realmId, 'Vendor')).keys()].sort();
    const read = [...new Set(events.filter((e) => e.data.op === 'r').map((e) => e.data.entityId))].sort();
    assert.deepEqual(read, vendors);
    assert.ok(events.every((e) => e.type.startsWith('RecordSnapshot') || e.data.entity === 'Vendor'));
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, SIX), []);
  });
});
