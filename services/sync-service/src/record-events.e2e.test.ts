import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { lastSeq, latestState, type RecordEventData, recordEvents } from './testing/feed-reading.js';
import { deleteAnInvoice, edits } from './testing/qbo-changes.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { type NotifiedChange, newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const SIX = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
let sim: SimulatorUnderTest;
let stack: SyncStack;
let realmId: string;
let orgId: string;
let connectionId: string;

before(async () => {
  sim = await startSimulator(['--seed', '19', '--companies', '1', '--records', '3000']);
  stack = await startSyncStack(sim);
  await stack.startReplica();
  realmId = sim.realmIds[0] as string;
  orgId = newOrg();
  connectionId = await stack.connect(realmId, orgId);
  await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
  await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

type Event = Awaited<ReturnType<typeof recordEvents>>[number];
const about = (events: Event[], entity: string, id: string) =>
  events.filter((e) => e.data.entity === entity && e.data.entityId === id);
const shape = (e: Event | undefined) => {
  const d = (e?.data ?? {}) as Partial<RecordEventData>;
  return {
    type: e?.type,
    op: d.op,
    reason: d.reason,
    mergedInto: d.mergedInto,
    voided: d.voided,
    active: d.active,
  };
};

/** Publishes what webhook-ingest would for these changes, waits for the delta they cause; its new events. */
async function syncNotified(changes: NotifiedChange[]): Promise<Event[]> {
  const seq = await lastSeq(stack, orgId);
  const since = new Date();
  await stack.notify(orgId, realmId, changes);
  await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: since });
  return recordEvents(stack, realmId, seq);
}

const deletion = (reason: string, mergedInto?: string) => ({
  type: 'RecordDeleted',
  op: 'd',
  reason,
  mergedInto,
  voided: undefined,
  active: undefined,
});
const update = (reason: string, voided: boolean | undefined, active: boolean | undefined) => ({
  type: 'RecordUpserted',
  op: 'u',
  reason,
  mergedInto: undefined,
  voided,
  active,
});

const now = async () => new Date(await sim.clock()).toISOString();

describe('voids, deletes and merges on the change feed', () => {
  it('publishes a void as an update, a delete as a delete, a name-list delete as a deactivation, a merge as both', async () => {
    const invoices = await simulatorRecords(sim, realmId, 'Invoice');
    const deleted = await deleteAnInvoice(stack, sim, realmId);
    const voidedId = [...invoices.keys()].find((id) => id !== deleted.id) as string;
    const voidedCustomer = String(
      (invoices.get(voidedId)?.CustomerRef as { value?: string } | undefined)?.value,
    );
    await sim.change(realmId, { op: 'void', entity: 'Invoice', id: voidedId });
    const moved = [deleted.customerId, voidedCustomer];
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()].filter(
      (id) => !moved.includes(id),
    );
    const [inactive, loser, survivor] = customers.slice(-3) as [string, string, string];
    await sim.change(realmId, { op: 'delete', entity: 'Customer', id: inactive });
    await sim.change(realmId, { op: 'merge', entity: 'Customer', id: loser, into: survivor });
    // Intuit moves the customers' balances without a version; an edit later gives them one.
    await sim.bulk(realmId, edits('Customer', moved, 'balance'));
    const at = await now();
    const events = await syncNotified([
      { entity: 'Invoice', entityId: voidedId, operation: 'Void', lastUpdated: at },
      { entity: 'Invoice', entityId: deleted.id, operation: 'Delete', lastUpdated: at },
      { entity: 'Customer', entityId: inactive, operation: 'Update', lastUpdated: at },
      // CloudEvents' data.deletedid, as webhook-ingest carries it: deletedId.
      { entity: 'Customer', entityId: survivor, operation: 'Merge', deletedId: loser, lastUpdated: at },
    ]);

    assert.deepEqual(
      about(events, 'Invoice', voidedId).map(shape),
      [update('voided', true, undefined)],
      'a void is an update, never a delete',
    );
    assert.deepEqual(about(events, 'Invoice', deleted.id).map(shape), [deletion('deleted')]);
    assert.deepEqual(
      about(events, 'Customer', inactive).map(shape),
      [update('deactivated', false, false)],
      'a name-list delete is a deactivation',
    );
    assert.deepEqual(about(events, 'Customer', loser).map(shape), [deletion('merged', survivor)]);
    assert.deepEqual(
      about(events, 'Customer', survivor).map(shape),
      [update('merged_survivor', false, true)],
      'the survivor refreshed',
    );
    const state = await latestState(stack);
    for (const key of [`Invoice:${deleted.id}`, `Customer:${loser}`]) {
      const full = `${orgId}:${realmId}:${key}`;
      assert.ok(state.has(full) && state.get(full) === null, `a tombstone for ${key}`);
    }
    assert.equal(
      state.get(`${orgId}:${realmId}:Invoice:${voidedId}`)?.type,
      'RecordState',
      'a voided invoice stays',
    );
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, SIX),
      [],
      'the mirror equals the simulator',
    );
  });

  it('treats a merged-away name Intuit keeps inactive as merged when the webhook says so, else as deactivated', async () => {
    await sim.setPolicies({ mergeLoser: 'inactive' });
    const [a, b, c, d] = [...(await simulatorRecords(sim, realmId, 'Vendor')).keys()].slice(0, 4) as [
      string,
      string,
      string,
      string,
    ];
    await sim.change(realmId, { op: 'merge', entity: 'Vendor', id: a, into: b });
    const notified = await syncNotified([
      { entity: 'Vendor', entityId: b, operation: 'Merge', deletedId: a, lastUpdated: await now() },
    ]);
    assert.deepEqual(about(notified, 'Vendor', a).map(shape), [deletion('merged', b)]);
    // Without the webhook the inactive loser cannot be told from a deactivation.
    await sim.change(realmId, { op: 'merge', entity: 'Vendor', id: c, into: d });
    const seq = await lastSeq(stack, orgId);
    const since = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: since });
    const unnotified = await recordEvents(stack, realmId, seq);
    assert.deepEqual(about(unnotified, 'Vendor', c).map(shape), [update('deactivated', false, false)]);
    // The simulator still lists the merged-away vendor (inactive); the mirror holds it as deleted.
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, SIX), [
      { entity: 'Vendor', entityId: a, problem: 'missing_in_mirror' },
    ]);
    await sim.setPolicies({ mergeLoser: 'deleted' });
  });
});
