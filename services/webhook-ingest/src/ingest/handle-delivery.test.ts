import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory } from '@qbo/events';
import { createLogger } from '@qbo/service-kit';
import { sign } from '../domain/signature.js';
import {
  countingMetrics,
  memoryKafka,
  memoryParkedChanges,
  memoryRealmOrgs,
  memorySeenEvents,
} from '../testing/fakes.js';
import { createHandleDelivery } from './handle-delivery.js';
import { createReplayParked } from './replay-parked.js';

const TOKEN = 'a-verifier-token-for-tests';
const KNOWN = '9130357766900001';
const UNKNOWN = '9130357766900002';

function setUp() {
  const realms = memoryRealmOrgs({ [KNOWN]: 'org-a' });
  const seen = memorySeenEvents();
  const parked = memoryParkedChanges();
  const kafka = memoryKafka();
  const metrics = countingMetrics();
  const log = createLogger({ service: 'test', level: 'silent' });
  const events = createEventFactory({ source: 'webhook-ingest' });
  const replay = createReplayParked({ parked, publish: kafka.publish, events, log });
  const handle = createHandleDelivery({
    verifierTokens: () => [TOKEN],
    realms,
    seen,
    parked,
    replay,
    publish: kafka.publish,
    events,
    metrics,
    log,
    dedupeWindowMs: 60_000,
  });
  return { handle, realms, seen, parked, kafka, metrics, replay };
}

const delivery = (realmId: string, id: string) =>
  JSON.stringify({
    eventNotifications: [
      {
        realmId,
        dataChangeEvent: {
          entities: [{ name: 'Customer', id, operation: 'Update', lastUpdated: '2026-03-01T12:00:00.000Z' }],
        },
      },
    ],
  });

const send = (handle: ReturnType<typeof setUp>['handle'], body: string) =>
  handle(Buffer.from(body), sign(body, TOKEN));

describe('handling one delivery', () => {
  it('publishes each change of a known realm to its org', async () => {
    const { handle, kafka } = setUp();
    const outcome = await send(handle, delivery(KNOWN, '1'));
    assert.deepEqual(outcome, { status: 200, routed: 1, parked: 0, duplicates: 0 });
    assert.deepEqual(
      kafka.published.map((e) => [e.type, e.orgId]),
      [['EntityChangeNotified', 'org-a']],
    );
  });

  it('does not remember the ids of a delivery Kafka did not take, so the retry is published', async () => {
    const { handle, kafka } = setUp();
    kafka.down = true;
    await assert.rejects(send(handle, delivery(KNOWN, '1')));
    kafka.down = false;
    const retry = await send(handle, delivery(KNOWN, '1'));
    assert.deepEqual(retry, { status: 200, routed: 1, parked: 0, duplicates: 0 });
    assert.equal(kafka.published.length, 1);
  });

  it('publishes nothing for a delivery it has already published', async () => {
    const { handle, kafka } = setUp();
    await send(handle, delivery(KNOWN, '1'));
    const again = await send(handle, delivery(KNOWN, '1'));
    assert.deepEqual(again, { status: 200, routed: 0, parked: 0, duplicates: 1 });
    assert.equal(kafka.published.length, 1);
  });

  it('refuses a delivery signed with another key and publishes nothing', async () => {
    const { handle, kafka, metrics } = setUp();
    const body = delivery(KNOWN, '1');
    const outcome = await handle(Buffer.from(body), sign(body, 'not-the-verifier-token'));
    assert.deepEqual(outcome, { status: 401, code: 'bad_signature' });
    assert.deepEqual(metrics.rejections, ['bad_signature']);
    assert.equal(kafka.published.length, 0);
  });

  it('parks a change of an unknown realm, on the parking topic and in the store', async () => {
    const { handle, kafka, parked } = setUp();
    const outcome = await send(handle, delivery(UNKNOWN, '5'));
    assert.deepEqual(outcome, { status: 200, routed: 0, parked: 1, duplicates: 0 });
    assert.deepEqual(
      kafka.published.map((e) => [e.type, e.orgId]),
      [['WebhookParked', '_unknown']],
    );
    assert.equal(parked.rows.length, 1);
  });

  it('replays a parked change to the org once its realm is linked', async () => {
    const { handle, kafka, realms, replay } = setUp();
    await send(handle, delivery(UNKNOWN, '5'));
    await realms.link({ realmId: UNKNOWN, orgId: 'org-b', connectionId: 'c' });
    assert.equal(await replay(UNKNOWN, 'org-b'), 1);
    assert.deepEqual(kafka.published.at(-1)?.orgId, 'org-b');
    assert.equal(await replay(UNKNOWN, 'org-b'), 0);
  });

  it('answers 400 for a signed body it cannot read, parking it for inspection', async () => {
    const { handle, kafka } = setUp();
    const outcome = await send(handle, '{"eventNotifications": 1}');
    assert.deepEqual(outcome, { status: 400, code: 'unparsable' });
    assert.equal(kafka.published[0]?.type, 'WebhookParked');
  });

  it('refuses every delivery while no verifier token is configured', async () => {
    const { kafka, metrics } = setUp();
    const log = createLogger({ service: 'test', level: 'silent' });
    const handle = createHandleDelivery({
      ...setUp(),
      verifierTokens: () => [],
      publish: kafka.publish,
      events: createEventFactory({ source: 'webhook-ingest' }),
      metrics,
      log,
      dedupeWindowMs: 60_000,
    });
    const outcome = await send(handle, delivery(KNOWN, '1'));
    assert.deepEqual(outcome, { status: 401, code: 'not_configured' });
  });
});
