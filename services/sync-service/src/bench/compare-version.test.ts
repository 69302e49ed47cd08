import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentiles } from './latency.js';
import { versionOf } from './peers/peer-http.js';

const customer = (syncToken: string, at: string, balance: number) => ({
  Id: '7',
  SyncToken: syncToken,
  Balance: balance,
  MetaData: { LastUpdatedTime: at },
});

test('a record’s version ignores what Intuit changes without a new version, such as a customer’s Balance', () => {
  assert.equal(
    versionOf(customer('3', '2026-12-04T08:00:00-08:00', 100)),
    versionOf(customer('3', '2026-12-04T08:00:00-08:00', 0)),
  );
});

test('a record’s version changes with its SyncToken or its LastUpdatedTime, compared as instants', () => {
  const v = versionOf(customer('3', '2026-12-04T08:00:00-08:00', 0));
  assert.notEqual(versionOf(customer('4', '2026-12-04T08:00:00-08:00', 0)), v);
  assert.notEqual(versionOf(customer('3', '2026-12-04T08:00:01-08:00', 0)), v);
  assert.equal(versionOf(customer('3', '2026-12-04T16:00:00Z', 0)), v);
});

test('percentiles are nearest-rank over the sorted values', () => {
  const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual(p, { n: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  assert.ok(Number.isNaN(percentiles([]).p50));
});
