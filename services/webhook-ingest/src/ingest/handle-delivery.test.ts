import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory } from '@qbo/events';
import { createLogger } from '@qbo/service-kit';
import { sign } from '../domain/signature.js';
import {
  countingMetrics,
  memoryKafka,
  memoryKeptEntries,
  memoryParkedChanges,
  memoryRealmOrgs,
  memorySeenEvents,
} from '../testing/fakes.js';
import { createHandleDelivery } from './handle-delivery.js';
import { createReplayParked } from './replay-parked.js';

const TOKEN = 'a-verifier-token-for-tests';
const KNOWN = '9130357766900001';
/** The deliveries below are of 2026-03-01T12:00Z; the handler's clock is a few minutes later. */
const NOW = Date.parse('2026-03-01T12:05:00.000Z');
const DAY_MS = 86_400_000;
const UNKNOWN = '9130357766900002';

function setUp() {
  const realms = memoryRealmOrgs({ [KNOWN]: 'org-a' });
  const seen = memorySeenEvents();
  const parked = memoryParkedChanges();
  const kept = memoryKeptEntries();
  const kafka = memoryKafka();
  const metrics = countingMetrics();
  const log = createLogger({ service: 'test', level: 'silent' });
  const events = createEventFactory({ source: 'webhook-ingest' });
  const replay = createReplayParked({ parked, publish: kafka.publish, events, log });
  const deps = {
    verifierTokens: () => [TOKEN],
    realms,
    seen,
    parked,
    kept,
    replay,
    publish: kafka.publish,
    events,
    metrics,
    log,
    dedupeWindowMs: 60_000,
    maxEventAgeMs: DAY_MS,
    now: () => NOW,
  };
  const handle = createHandleDelivery(deps);
  return { handle, deps, realms, seen, parked, kept, kafka, metrics, replay };
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
    await realms.link({
      realmId: UNKNOWN,
      orgId: 'org-b',
      connectionId: 'c',
      at: new Date(NOW).toISOString(),
    });
    const since = new Date(NOW - 60_000).toISOString();
    assert.equal(await replay(UNKNOWN, 'org-b', since), 1);
    assert.deepEqual(kafka.published.at(-1)?.orgId, 'org-b');
    assert.equal(await replay(UNKNOWN, 'org-b', since), 0);
  });

  it('replays no parked change received before the window of the connection', async () => {
    const { handle, kafka, replay } = setUp();
    await send(handle, delivery(UNKNOWN, '5'));
    const published = kafka.published.length;
    assert.equal(await replay(UNKNOWN, 'org-late', new Date(NOW + 1).toISOString()), 0);
    assert.equal(kafka.published.length, published);
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
      maxEventAgeMs: DAY_MS,
    });
    const outcome = await send(handle, delivery(KNOWN, '1'));
    assert.deepEqual(outcome, { status: 401, code: 'not_configured' });
  });
});

const cloudEvent = (id: string, fields: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  type: 'qbo.customer.updated.v1',
  time: '2026-03-01T12:00:00.000Z',
  intuitaccountid: KNOWN,
  intuitentityid: '1',
  ...fields,
});

describe('keeping what cannot be published', () => {
  it('publishes the valid entries of a batch and keeps the malformed one, answering 200', async () => {
    const { handle, kafka, kept } = setUp();
    const broken = cloudEvent('b', { type: 'qbo.customer.teleported.v1' });
    const outcome = await send(
      handle,
      JSON.stringify([cloudEvent('a'), broken, cloudEvent('c', { intuitentityid: 7 }), cloudEvent('d')]),
    );
    assert.deepEqual(outcome, { status: 200, routed: 2, parked: 0, duplicates: 0, kept: 2 });
    assert.deepEqual(
      kafka.published.map((e) => (e.data as { notificationId: string }).notificationId),
      ['a', 'd'],
    );
    assert.deepEqual(
      kept.rows.map((r) => [r.reason, r.realmId]),
      [
        ['malformed_entry', KNOWN],
        ['malformed_entry', KNOWN],
      ],
    );
    assert.deepEqual(JSON.parse(String(kept.rows[0]?.body)), broken);
  });

  it('keeps a legacy entity it cannot read, and one outside the event contract, publishing their neighbour', async () => {
    const { handle, kafka, kept } = setUp();
    const entity = (id: string, operation: string) => ({
      name: 'Customer',
      id,
      operation,
      lastUpdated: '2026-03-01T12:00:00Z',
    });
    const body = JSON.stringify({
      eventNotifications: [
        { realmId: KNOWN, dataChangeEvent: { entities: [entity('1', 'Update'), entity('2', 'Archive')] } },
        { realmId: 'not-digits', dataChangeEvent: { entities: [entity('3', 'Update')] } },
      ],
    });
    const outcome = await send(handle, body);
    assert.deepEqual(outcome, { status: 200, routed: 1, parked: 0, duplicates: 0, kept: 2 });
    assert.equal(kafka.published.length, 1);
    assert.deepEqual(
      kept.rows.map((r) => [r.reason, r.realmId, r.detail.startsWith('not a webhook entity')]),
      [
        ['malformed_entry', KNOWN, true],
        ['malformed_entry', 'not-digits', false],
      ],
    );
  });

  it('keeps an entry older than the age limit instead of publishing it, and publishes the fresh one', async () => {
    const { handle, kafka, kept } = setUp();
    const old = new Date(NOW - DAY_MS - 60_000).toISOString();
    const outcome = await send(handle, JSON.stringify([cloudEvent('old', { time: old }), cloudEvent('new')]));
    assert.deepEqual(outcome, { status: 200, routed: 1, parked: 0, duplicates: 0, kept: 1 });
    assert.deepEqual(
      kafka.published.map((e) => (e.data as { notificationId: string }).notificationId),
      ['new'],
    );
    assert.deepEqual(
      kept.rows.map((r) => [r.reason, r.eventId]),
      [['stale', 'old']],
    );
  });

  it('keeps a signed body whose parked event would not fit a Kafka message, answering 413', async () => {
    const { deps, kafka, kept, metrics } = setUp();
    const handle = createHandleDelivery({ ...deps, maxMessageBytes: 8_192 });
    const body = `{"eventNotifications": "${'x'.repeat(6_000)}"}`;
    assert.deepEqual(await send(handle, body), { status: 413, code: 'too_large' });
    assert.deepEqual(await send(handle, body), { status: 413, code: 'too_large' });
    assert.equal(kafka.published.length, 0);
    assert.deepEqual(
      kept.rows.map((r) => [r.reason, Buffer.from(r.body).toString()]),
      [['too_large', body]],
    );
    assert.deepEqual(metrics.rejections, ['too_large_to_publish', 'too_large_to_publish']);
  });

  it('keeps a body the broker refuses as too large, answering 413 rather than failing', async () => {
    const { deps, kept } = setUp();
    const tooLarge = Object.assign(new Error('The request included a message larger than the max'), {
      cause: { type: 'MESSAGE_TOO_LARGE' },
    });
    const handle = createHandleDelivery({
      ...deps,
      publish: async () => {
        throw tooLarge;
      },
    });
    assert.deepEqual(await send(handle, '{"eventNotifications": 1}'), { status: 413, code: 'too_large' });
    assert.equal(kept.rows[0]?.reason, 'too_large');
  });
});
