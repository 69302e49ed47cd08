import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, test } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { createSimulator, type Simulator } from './index.js';
import { connect } from './testing/connect.js';
import { startReceiver } from './testing/receiver.js';

const VERIFIER = 'verifier-token-for-tests';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
});

async function setUp(statuses: number[], format: 'legacy' | 'cloudevents' | 'both', timeScale = 0.001) {
  const receiver = await startReceiver(statuses);
  const sim: Simulator = await createSimulator({
    seed: { seed: 3, companies: 2, records: 50 },
    webhooks: {
      batchWindowMs: 50,
      timeScale,
      targets: [{ url: receiver.url, format, verifierToken: VERIFIER }],
    },
  });
  cleanup.push(() => sim.close(), receiver.close);
  const realmIds = sim.control.companies().map((c) => c.realmId) as [string, string];
  return { receiver, sim, realmIds };
}

const verifies = (raw: Buffer, signature: string | string[] | undefined) => {
  const expected = createHmac('sha256', VERIFIER).update(raw).digest();
  const given = Buffer.from(String(signature), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
};

test('delivers a change signed so that the verifier token verifies the raw body', async () => {
  const { receiver, sim, realmIds } = await setUp([], 'legacy');
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'changed' } });
  await waitFor(() => receiver.received.length === 1, { what: 'a delivery' });
  const [delivery] = receiver.received;
  assert.ok(delivery && verifies(delivery.raw, delivery.headers['intuit-signature']));
  assert.equal(delivery.headers['user-agent'], 'intuit_notification_server/0.1');
  const body = JSON.parse(delivery.raw.toString()) as {
    eventNotifications: {
      realmId: string;
      dataChangeEvent: { entities: { name: string; id: string; operation: string }[] };
    }[];
  };
  assert.equal(body.eventNotifications[0]?.realmId, realmIds[0]);
  assert.deepEqual(
    body.eventNotifications[0]?.dataChangeEvent.entities.map((e) => [e.name, e.id, e.operation]),
    [['Customer', '1', 'Update']],
  );
});

test('batches changes within the window: one legacy delivery per realm, one CloudEvents array for all', async () => {
  const { receiver, sim, realmIds } = await setUp([], 'both');
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'a' } });
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '2', data: { Notes: 'b' } });
  sim.control.change(realmIds[1], { op: 'create', entity: 'Vendor', data: { DisplayName: 'New Vendor' } });
  await waitFor(() => receiver.received.length === 3, { what: 'three deliveries' });
  const bodies = receiver.received.map((r) => JSON.parse(r.raw.toString()) as unknown);
  const legacy = bodies.filter((b) => !Array.isArray(b)) as { eventNotifications: { realmId: string }[] }[];
  const cloud = bodies.filter((b) => Array.isArray(b)) as { type: string; intuitaccountid: string }[][];
  assert.deepEqual(legacy.map((b) => b.eventNotifications[0]?.realmId).sort(), [...realmIds].sort());
  assert.equal(cloud.length, 1);
  assert.deepEqual(
    cloud[0]?.map((e) => e.type),
    ['qbo.customer.updated.v1', 'qbo.customer.updated.v1', 'qbo.vendor.created.v1'],
  );
  assert.ok(receiver.received.every((r) => verifies(r.raw, r.headers['intuit-signature'])));
});

test('redelivers after a failed delivery, on the compressed retry schedule', async () => {
  const { receiver, sim, realmIds } = await setUp([500, 503], 'legacy');
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'retry me' } });
  await waitFor(() => sim.control.deliveries()[0]?.delivered === true, { what: 'a delivered webhook' });
  const delivery = sim.control.deliveries()[0];
  assert.deepEqual(
    delivery?.attempts.map((a) => a.status),
    [500, 503, 200],
  );
  const bodies = receiver.received.map((r) => r.raw.toString());
  assert.equal(new Set(bodies).size, 1);
});

test('holds later changes until the failed delivery is acknowledged', async () => {
  // The first retry waits 10 s × 0.1 = 1 s: time enough to queue a second change behind the failed one.
  const { receiver, sim, realmIds } = await setUp([500], 'legacy', 0.1);
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'first' } });
  await waitFor(() => receiver.received.length === 1, { what: 'the first attempt' });
  assert.equal(sim.control.deliveries().length, 1);
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '2', data: { Notes: 'second' } });
  await waitFor(() => sim.control.deliveries().length === 2, { what: 'the second delivery queued' });
  assert.equal(receiver.received.length, 1);
  await waitFor(() => receiver.received.length === 3, { what: 'the retry and the next delivery' });
  const ids = receiver.received.map(
    (r) =>
      (
        JSON.parse(r.raw.toString()) as {
          eventNotifications: { dataChangeEvent: { entities: { id: string }[] } }[];
        }
      ).eventNotifications[0]?.dataChangeEvent.entities[0]?.id,
  );
  assert.deepEqual(ids, ['1', '1', '2']);
});

test('a flush retries a waiting delivery at once instead of on the schedule', async () => {
  const { receiver, sim, realmIds } = await setUp([500], 'legacy', 1);
  sim.control.change(realmIds[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'now' } });
  await waitFor(() => receiver.received.length === 1, { what: 'the first attempt' });
  await sim.control.flushWebhooks();
  assert.deepEqual(
    sim.control.deliveries()[0]?.attempts.map((a) => a.status),
    [500, 200],
  );
});

test('delivers only to apps connected to the realm when the target names an app', async () => {
  const receiver = await startReceiver();
  const sim = await createSimulator({
    seed: { seed: 3, companies: 1, records: 20 },
    webhooks: {
      batchWindowMs: 20,
      targets: [{ url: receiver.url, format: 'legacy', verifierToken: VERIFIER, clientId: 'sim-client-id' }],
    },
  });
  cleanup.push(() => sim.close(), receiver.close);
  const realmId = sim.control.companies()[0]?.realmId as string;
  sim.control.change(realmId, { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'unseen' } });
  await sim.control.flushWebhooks();
  assert.equal(receiver.received.length, 0);
  await connect(sim, realmId);
  sim.control.change(realmId, { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'seen' } });
  await waitFor(() => receiver.received.length === 1, { what: 'a delivery to the connected app' });
});

test('reports a merge with deletedId (legacy) and data.deletedid (CloudEvents), and a void as Void', async () => {
  const { receiver, sim, realmIds } = await setUp([], 'both');
  sim.control.change(realmIds[0], { op: 'merge', entity: 'Customer', id: '2', into: '1' });
  sim.control.change(realmIds[0], { op: 'void', entity: 'Invoice', id: '1' });
  await waitFor(() => receiver.received.length === 2, { what: 'a legacy and a CloudEvents delivery' });
  const bodies = receiver.received.map((r) => JSON.parse(r.raw.toString()) as unknown);
  const legacy = bodies.find((b) => !Array.isArray(b)) as {
    eventNotifications: {
      dataChangeEvent: { entities: { name: string; id: string; operation: string; deletedId?: string }[] };
    }[];
  };
  const cloud = bodies.find((b) => Array.isArray(b)) as {
    type: string;
    intuitentityid: string;
    data?: Record<string, string>;
  }[];
  const entities = legacy.eventNotifications[0]?.dataChangeEvent.entities ?? [];
  const merge = entities.find((e) => e.operation === 'Merge');
  assert.deepEqual([merge?.name, merge?.id, merge?.deletedId], ['Customer', '1', '2']);
  assert.ok(entities.some((e) => e.name === 'Invoice' && e.id === '1' && e.operation === 'Void'));
  const merged = cloud.find((e) => e.type === 'qbo.customer.merged.v1');
  assert.equal(merged?.intuitentityid, '1');
  assert.deepEqual(merged?.data, { deletedid: '2' });
  assert.ok(cloud.some((e) => e.type === 'qbo.invoice.voided.v1' && e.intuitentityid === '1'));
});
