import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, readToEnd, type TestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import {
  attack,
  createTestDatabase,
  type ServiceProcess,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import { sign } from './domain/signature.js';
import {
  connectionEstablished,
  connectionsProducer,
  connectRealm,
  decode,
  messageCount,
  NEW_TOKEN,
  type Notified,
  startIngest,
} from './testing/harness.js';

/** How long the service keeps a parked change for an org that connects its realm later (set for this suite). */
const PARK_WINDOW_MS = 3_000;
const HOUR_MS = 3_600_000;

let realmSeq = 0;
/** A realm id of this run alone (Intuit's are digits). */
const newRealm = () => `91${String(Date.now()).slice(-9)}${String(++realmSeq).padStart(3, '0')}`;

const cloudEvent = (realmId: string, id: string, entityId: string, time = new Date()) => ({
  specversion: '1.0',
  id,
  source: 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
  type: 'qbo.customer.updated.v1',
  datacontenttype: 'application/json',
  time: time.toISOString(),
  intuitentityid: entityId,
  intuitaccountid: realmId,
  data: {},
});

describe('webhook-ingest under attack from outside', () => {
  let db: TestDatabase;
  let bus: TestBus;
  let ingest: ServiceProcess;
  let producer: EventProducer;
  let url: string;
  /** Realms whose webhooks must go to this org, whatever connection events were sent for them meanwhile. */
  const owners = new Map<string, string>();
  /** Realms linked after a hostile connection event, on the same partition. */
  const markers = new Map<string, string>();
  const webhooksTopic = () => bus.names.physical(topics.webhooks);

  const post = (body: string | Buffer) =>
    fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'intuit-signature': sign(body, NEW_TOKEN) },
    });

  const linkedTo = (realmId: string, orgId: string) =>
    waitFor(
      async () =>
        (
          await db.query('select 1 from webhook.realm_org where realm_id = $1 and org_id = $2 and active', [
            realmId,
            orgId,
          ])
        ).length === 1,
      { timeoutMs: 60_000, what: `${realmId} linked to ${orgId}` },
    );

  /** The changes on the webhooks topic with these notification ids, as [key, orgId, notificationId]. */
  const published = async (ids: readonly string[]) =>
    (await readToEnd(bus.kafka, webhooksTopic()))
      .map(({ message }) => [String(message.key), decode<Notified>(message.value)] as const)
      .filter(([, e]) => ids.includes(e.data.notificationId))
      .map(([key, e]) => [key, e.orgId, e.data.notificationId]);

  const kept = (reason: string) =>
    db.query<{ realm_id: string | null; event_id: string | null; body: Buffer }>(
      'select realm_id, event_id, body from webhook.kept_entry where reason = $1 order by id',
      [reason],
    );

  before(async () => {
    db = await createTestDatabase('webhook-ingest-attack');
    bus = await createTestBus({ topics: [topics.connections, topics.webhooks, topics.webhooksParked] });
    ingest = await startIngest(db, bus, testBrokers(), { WEBHOOK_PARK_WINDOW_MS: String(PARK_WINDOW_MS) });
    url = `${ingest.url}/webhooks/quickbooks`;
    producer = await connectionsProducer(bus);
  });
  after(async () => {
    await producer?.disconnect();
    await ingest?.stop();
    await db?.drop();
  });

  attack(
    'a signed batch with one malformed entry: the valid entries are published, the malformed one kept, 2xx',
    async () => {
      const realm = newRealm();
      await connectRealm(producer, 'org-batch', realm);
      await linkedTo(realm, 'org-batch');
      const broken = { ...cloudEvent(realm, 'ce-broken-1', '3'), intuitentityid: undefined, type: 'qbo.x' };
      const body = JSON.stringify([
        cloudEvent(realm, 'ce-valid-1', '1'),
        broken,
        cloudEvent(realm, 'ce-valid-2', '2'),
      ]);
      const response = await post(body);
      assert.ok(response.status >= 200 && response.status < 300, `answered ${response.status}`);
      assert.deepEqual((await published(['ce-valid-1', 'ce-valid-2', 'ce-broken-1'])).sort(), [
        ['org-batch', 'org-batch', 'ce-valid-1'],
        ['org-batch', 'org-batch', 'ce-valid-2'],
      ]);
      const malformed = await kept('malformed_entry');
      assert.equal(malformed.length, 1);
      assert.deepEqual(JSON.parse(String(malformed[0]?.body)), JSON.parse(JSON.stringify(broken)));
    },
  );

  attack(
    'a signed body too large for a Kafka message is refused with 4xx and kept, not answered 5xx',
    async () => {
      // 250,000 control characters: within the body limit, but 1.5 MB once escaped into a parked event's JSON.
      const body = Buffer.alloc(250_000, 1);
      const statuses = [(await post(body)).status, (await post(body)).status];
      for (const status of statuses) assert.ok(status >= 400 && status < 500, `answered ${statuses}`);
      const rows = await kept('too_large');
      assert.equal(rows.length, 1, 'kept once, however often it is sent');
      assert.ok(rows[0]?.body.equals(body), 'kept byte for byte');
    },
  );

  attack(
    'a slowloris upload is cut off within seconds, in the headers and in the body',
    async () => {
      const { port } = new URL(url);
      const trickle = (opening: string, drip: string) =>
        new Promise<number>((resolve) => {
          const started = Date.now();
          const socket = connect(Number(port), '127.0.0.1', () => socket.write(opening));
          const timer = setInterval(() => socket.write(drip), 500);
          const done = () => {
            clearInterval(timer);
            socket.destroy();
            resolve(Date.now() - started);
          };
          socket.on('close', done);
          socket.on('error', done);
          socket.on('data', () => {});
          setTimeout(done, 20_000);
        });
      const [headers, body] = await Promise.all([
        trickle('POST /webhooks/quickbooks HTTP/1.1\r\nHost: localhost\r\n', 'x-slow: 1\r\n'),
        trickle(
          `POST /webhooks/quickbooks HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\nintuit-signature: ${sign('[]', NEW_TOKEN)}\r\ncontent-length: 100000\r\n\r\n[`,
          ' ',
        ),
      ]);
      assert.ok(headers < 10_000, `slow headers held the connection ${headers} ms`);
      assert.ok(body < 10_000, `slow body held the connection ${body} ms`);
    },
    { timeout: 60_000 },
  );

  attack('a replayed delivery older than the dedupe window is refused and publishes nothing', async () => {
    const realm = newRealm();
    await connectRealm(producer, 'org-replay', realm);
    await linkedTo(realm, 'org-replay');
    // A genuine delivery captured three days ago: its dedupe record (48 h) is long pruned.
    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId: realm,
          dataChangeEvent: {
            entities: [
              {
                name: 'Invoice',
                id: '4711',
                operation: 'Delete',
                lastUpdated: new Date(Date.now() - 72 * HOUR_MS).toISOString(),
              },
            ],
          },
        },
      ],
    });
    const before = await messageCount(bus.kafka, webhooksTopic());
    const response = await post(body);
    assert.notEqual(response.status, 503);
    const answer = (await response.json()) as { routed?: number };
    assert.equal(answer.routed ?? 0, 0, JSON.stringify(answer));
    assert.equal(await messageCount(bus.kafka, webhooksTopic()), before);
    const stale = await kept('stale');
    assert.ok(stale.some((r) => r.realm_id === realm));
  });

  attack('an old link replayed after a newer one leaves webhooks going to the current org', async () => {
    const realm = newRealm();
    const old = connectionEstablished('org-previous', realm, { connectedAt: new Date(Date.now() - HOUR_MS) });
    await producer.publish(old);
    await linkedTo(realm, 'org-previous');
    await connectRealm(producer, 'org-current', realm);
    await linkedTo(realm, 'org-current');
    owners.set(realm, 'org-current');
    // The old event again (a replay, or a rebuild reading the other org's partition late), then a marker on
    // the same partition: once the marker is linked, the old event has been handled.
    await producer.publish(old);
    const marker = newRealm();
    await connectRealm(producer, 'org-previous', marker);
    await linkedTo(marker, 'org-previous');
    markers.set(marker, 'org-previous');
    const response = await post(JSON.stringify([cloudEvent(realm, 'ce-after-replay', '9')]));
    assert.equal(response.status, 200);
    assert.deepEqual(await published(['ce-after-replay']), [
      ['org-current', 'org-current', 'ce-after-replay'],
    ]);
  });

  attack('a connection event not written by auth-service cannot re-point a realm’s webhooks', async () => {
    const realm = newRealm();
    await connectRealm(producer, 'org-owner', realm);
    await linkedTo(realm, 'org-owner');
    // Newer, well formed, on the connections topic: but written by a service that does not own connections.
    await producer.publish(connectionEstablished('org-intruder', realm, { source: 'sync-service' }));
    owners.set(realm, 'org-owner');
    const marker = newRealm();
    await connectRealm(producer, 'org-intruder', marker);
    await linkedTo(marker, 'org-intruder');
    markers.set(marker, 'org-intruder');

    const response = await post(JSON.stringify([cloudEvent(realm, 'ce-after-intruder', '8')]));
    assert.equal(response.status, 200);
    assert.deepEqual(await published(['ce-after-intruder']), [
      ['org-owner', 'org-owner', 'ce-after-intruder'],
    ]);
  });

  attack(
    'changes parked for a realm not connected in time are pruned, never delivered to an org that connects later',
    async () => {
      const realm = newRealm();
      const response = await post(JSON.stringify([cloudEvent(realm, 'ce-parked-early', '5')]));
      assert.equal(((await response.json()) as { parked: number }).parked, 1);
      const parkedRows = () =>
        db.query('select 1 from webhook.parked_change where realm_id = $1', [realm]).then((r) => r.length);
      assert.equal(await parkedRows(), 1, 'the change is parked');
      await new Promise((r) => setTimeout(r, PARK_WINDOW_MS + 1_500));
      await connectRealm(producer, 'org-late', realm);
      // A marker on the same partition: once it is linked, the realm's connection (and any replay) is handled.
      const marker = newRealm();
      await connectRealm(producer, 'org-late', marker);
      await linkedTo(marker, 'org-late');
      assert.deepEqual(await published(['ce-parked-early']), []);
      // The prune job (every park window here) forgets it: nothing is left to hand to any org later.
      await waitFor(async () => (await parkedRows()) === 0, {
        timeoutMs: 3 * PARK_WINDOW_MS,
        what: 'the parked change pruned past the park window',
      });
    },
  );

  it('rebuilds the projection from the topic to the newest trusted link of each realm, in any reading order', async () => {
    assert.ok(owners.size >= 2, 'the link attacks ran first');
    await ingest.stop();
    // A wiped store gets a new consumer group, which reads every connection event from the beginning.
    await db.query('delete from webhook.realm_org');
    await db.query('delete from webhook.projection_group');
    ingest = await startIngest(db, bus, testBrokers(), { WEBHOOK_PARK_WINDOW_MS: String(PARK_WINDOW_MS) });
    url = `${ingest.url}/webhooks/quickbooks`;
    for (const [realm, org] of owners) await linkedTo(realm, org);
    // The markers were published after the old and the intruding events, on their partitions: once they are
    // linked again, those events have been read too.
    for (const [marker, org] of markers) await linkedTo(marker, org);
    for (const [realm, org] of owners) {
      const id = `ce-rebuilt-${realm}`;
      assert.equal((await post(JSON.stringify([cloudEvent(realm, id, '1')]))).status, 200);
      assert.deepEqual(await published([id]), [[org, org, id]]);
    }
  });
});
