import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, readTopic, type TestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import {
  createTestDatabase,
  type ServiceProcess,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import { sign } from './domain/signature.js';
import {
  connectionsProducer,
  connectRealm,
  decode,
  messageCount,
  NEW_TOKEN,
  type Notified,
  OLD_TOKEN,
  type Parked,
  startIngest,
} from './testing/harness.js';

describe('POST /webhooks/quickbooks with the simulator delivering signed webhooks', () => {
  let db: TestDatabase;
  let bus: TestBus;
  let ingest: ServiceProcess;
  let sim: Simulator;
  let producer: EventProducer;
  let realms: [string, string, string];
  let url: string;
  const webhooksTopic = () => bus.names.physical(topics.webhooks);
  const parkedTopic = () => bus.names.physical(topics.webhooksParked);

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  const linked = async (count: number) =>
    waitFor(
      async () =>
        Number((await db.query('select count(*) as n from webhook.realm_org where active'))[0]?.n) >= count,
      { timeoutMs: 60_000, what: `${count} realms linked` },
    );

  before(async () => {
    db = await createTestDatabase('webhook-ingest-e2e');
    bus = await createTestBus({ topics: [topics.connections, topics.webhooks, topics.webhooksParked] });
    ingest = await startIngest(db, bus, testBrokers());
    url = `${ingest.url}/webhooks/quickbooks`;
    sim = await createSimulator({
      seed: { seed: 9, companies: 3, records: 20 },
      webhooks: {
        batchWindowMs: 100,
        timeScale: 0.001,
        targets: [{ url, format: 'both', verifierToken: NEW_TOKEN }],
      },
    });
    realms = sim.control.companies().map((c) => c.realmId) as [string, string, string];
    producer = await connectionsProducer(bus);
    await connectRealm(producer, 'org-a', realms[0]);
    await connectRealm(producer, 'org-b', realms[1]);
    await linked(2);
  });
  after(async () => {
    await sim?.close();
    await producer?.disconnect();
    await ingest?.stop();
    await db?.drop();
  });

  it('publishes both formats, a multi-realm CloudEvents batch included, keyed by each realm’s org', async () => {
    sim.control.change(realms[0], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'a' } });
    sim.control.change(realms[1], { op: 'update', entity: 'Customer', id: '1', data: { Notes: 'b' } });
    await waitFor(() => sim.control.deliveries().filter((d) => d.delivered).length === 3, {
      timeoutMs: 30_000,
      what: 'two legacy deliveries and one CloudEvents batch delivered',
    });
    const cloud = sim.control.deliveries().find((d) => d.format === 'cloudevents');
    assert.deepEqual(cloud?.realmIds.slice().sort(), [realms[0], realms[1]].sort());
    assert.ok(sim.control.deliveries().every((d) => d.attempts.at(-1)?.status === 200));

    const messages = await readTopic(bus.kafka, webhooksTopic(), 4);
    const seen = messages
      .map(({ message }) => {
        const event = decode<Notified>(message.value);
        return [String(message.key), event.orgId, event.data.realmId, event.data.format, event.data.entity];
      })
      .sort();
    assert.deepEqual(seen, [
      ['org-a', 'org-a', realms[0], 'cloudevents', 'Customer'],
      ['org-a', 'org-a', realms[0], 'legacy', 'Customer'],
      ['org-b', 'org-b', realms[1], 'cloudevents', 'Customer'],
      ['org-b', 'org-b', realms[1], 'legacy', 'Customer'],
    ]);
    assert.equal(await messageCount(bus.kafka, webhooksTopic()), 4);
  });

  it('refuses forged, truncated and re-signed deliveries with 401 and publishes nothing for them', async () => {
    const before = await messageCount(bus.kafka, webhooksTopic());
    const parkedBefore = await messageCount(bus.kafka, parkedTopic());
    const body = sim.control.deliveries()[0]?.body ?? '';
    const signature = sign(body, NEW_TOKEN);
    const forged = body.replace(realms[0], realms[1]);
    const statuses = [
      (await post(forged, { 'intuit-signature': signature })).status,
      (await post(body.slice(0, -10), { 'intuit-signature': signature })).status,
      (await post(body, { 'intuit-signature': signature.slice(0, 20) })).status,
      (await post(body, { 'intuit-signature': sign(body, 'a-key-that-is-not-ours') })).status,
      (await post(body)).status,
    ];
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    assert.equal(await messageCount(bus.kafka, webhooksTopic()), before);
    assert.equal(await messageCount(bus.kafka, parkedTopic()), parkedBefore);
  });

  it('accepts a delivery signed with the token being rotated out', async () => {
    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId: realms[0],
          dataChangeEvent: {
            entities: [
              { name: 'Vendor', id: '77', operation: 'Create', lastUpdated: new Date().toISOString() },
            ],
          },
        },
      ],
    });
    const response = await post(body, { 'intuit-signature': sign(body, OLD_TOKEN) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { routed: 1, parked: 0, duplicates: 0 });
  });

  it('answers a replayed delivery with 200 without publishing its changes again', async () => {
    const delivered = sim.control.deliveries().find((d) => d.format === 'cloudevents');
    const body = delivered?.body ?? '';
    const before = await messageCount(bus.kafka, webhooksTopic());
    const response = await post(body, { 'intuit-signature': sign(body, NEW_TOKEN) });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { routed: 0, parked: 0, duplicates: 2 });
    assert.equal(await messageCount(bus.kafka, webhooksTopic()), before);
  });

  it('parks a signed but unparsable body with 400, keeping it for inspection', async () => {
    const body = '{"eventNotifications": "not a list"}';
    const response = await post(body, { 'intuit-signature': sign(body, NEW_TOKEN) });
    assert.equal(response.status, 400);
    const parked = (await readTopic(bus.kafka, parkedTopic(), 1)).map(({ message }) =>
      decode<Parked>(message.value),
    );
    assert.ok(parked.some((p) => p.data.reason === 'unparsable' && p.data.body === body));
  });

  it('writes neither verifier token nor any signature to its logs', async () => {
    const body = sim.control.deliveries()[0]?.body ?? '';
    const output = ingest.output();
    assert.ok(
      ingest.logs.some((l) => l.msg === 'webhook rejected'),
      'the rejections were logged',
    );
    for (const secret of [OLD_TOKEN, NEW_TOKEN, sign(body, NEW_TOKEN)]) assert.ok(!output.includes(secret));
  });

  it('refuses a body over the size limit with 413', async () => {
    const body = `[${'"x",'.repeat(70_000)}"x"]`;
    const response = await post(body, { 'intuit-signature': sign(body, NEW_TOKEN) });
    assert.equal(response.status, 413);
  });

  it('parks a change of an unknown realm and replays it to the org once the realm is connected', async () => {
    sim.control.change(realms[2], { op: 'update', entity: 'Customer', id: '2', data: { Notes: 'early' } });
    const parked = await waitFor(
      async () =>
        (
          await db.query<{ n: string }>(
            'select count(*) as n from webhook.parked_change where realm_id = $1',
            [realms[2]],
          )
        )[0]?.n === '2',
      { timeoutMs: 30_000, what: 'two parked changes (one per format)' },
    );
    assert.ok(parked);
    const onParking = (await readTopic(bus.kafka, parkedTopic(), 3))
      .map(({ message }) => decode<Parked>(message.value))
      .filter((p) => p.data.reason === 'unknown_realm' && p.data.realmId === realms[2]);
    assert.equal(onParking.length, 2);

    await connectRealm(producer, 'org-c', realms[2]);
    await waitFor(
      async () =>
        (
          await db.query<{ n: string }>(
            'select count(*) as n from webhook.parked_change where realm_id = $1 and replayed_at is not null',
            [realms[2]],
          )
        )[0]?.n === '2',
      { timeoutMs: 60_000, what: 'the parked changes marked replayed' },
    );
    const all = await readTopic(bus.kafka, webhooksTopic(), await messageCount(bus.kafka, webhooksTopic()));
    const replayed = all.filter(({ message }) => String(message.key) === 'org-c');
    assert.deepEqual(
      replayed.map(({ message }) => decode<Notified>(message.value).data.realmId),
      [realms[2], realms[2]],
    );
  });
});
