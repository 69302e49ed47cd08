import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { test } from 'node:test';
import type { ChangeEvent } from '../domain/company.js';
import { cloudEventsPayload, legacyPayload } from './payloads.js';
import { signPayload } from './sign.js';

const at = Date.parse('2015-10-05T21:42:19Z');
const events: ChangeEvent[] = [
  { realmId: '1185883450', entity: 'Customer', id: '1', operation: 'Create', updatedMs: at },
  { realmId: '1185883450', entity: 'Customer', id: '7', operation: 'Merge', updatedMs: at, deletedId: '6' },
];

test('writes the legacy payload exactly as Intuit documents it', () => {
  assert.equal(
    legacyPayload('1185883450', events),
    '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"},{"name":"Customer","id":"7","operation":"Merge","lastUpdated":"2015-10-05T14:42:19-0700","deletedId":"6"}]}}]}',
  );
});

test('writes CloudEvents as an array with Intuit extension attributes', () => {
  const [first] = JSON.parse(cloudEventsPayload(events, 'intuit.abc=')) as Record<string, unknown>[];
  assert.equal(first?.specversion, '1.0');
  assert.equal(first?.type, 'qbo.customer.created.v1');
  assert.equal(first?.intuitentityid, '1');
  assert.equal(first?.intuitaccountid, '1185883450');
  assert.equal(first?.time, '2015-10-05T21:42:19.000000000Z');
  assert.deepEqual(first?.data, {});
});

test('names a merged-away id in data.deletedid and leaves data out of an update, as Intuit documents', () => {
  const update: ChangeEvent = {
    realmId: '1',
    entity: 'SalesReceipt',
    id: '9',
    operation: 'Update',
    updatedMs: at,
  };
  const [, merge, updated] = JSON.parse(cloudEventsPayload([...events, update], 'intuit.abc=')) as Record<
    string,
    unknown
  >[];
  assert.equal(merge?.type, 'qbo.customer.merged.v1');
  assert.equal(merge?.intuitentityid, '7');
  assert.deepEqual(merge?.data, { deletedid: '6' });
  assert.equal(updated?.type, 'qbo.salesreceipt.updated.v1');
  assert.equal('data' in (updated ?? {}), false);
});

test('signs so that a receiver holding the verifier token can verify the raw bytes', () => {
  const body = legacyPayload('1', events);
  const given = Buffer.from(signPayload('verifier-token', body), 'base64');
  const expected = createHmac('sha256', 'verifier-token').update(Buffer.from(body)).digest();
  assert.ok(given.length === expected.length && timingSafeEqual(given, expected));
});
