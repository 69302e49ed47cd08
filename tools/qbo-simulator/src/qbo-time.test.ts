import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatCloudEventTime,
  formatLegacyWebhookTime,
  formatMetaTime,
  formatResponseTime,
  parseQboTime,
} from './qbo-time.js';

test('formats summer instants with the Pacific daylight offset', () => {
  assert.equal(formatMetaTime(Date.parse('2015-07-24T17:33:39Z')), '2015-07-24T10:33:39-07:00');
});

test('formats winter instants with the Pacific standard offset', () => {
  assert.equal(formatMetaTime(Date.parse('2022-02-02T21:16:57Z')), '2022-02-02T13:16:57-08:00');
});

test('switches offset exactly at the daylight-saving boundaries', () => {
  assert.equal(formatMetaTime(Date.parse('2025-03-09T09:59:59Z')), '2025-03-09T01:59:59-08:00');
  assert.equal(formatMetaTime(Date.parse('2025-03-09T10:00:00Z')), '2025-03-09T03:00:00-07:00');
  assert.equal(formatMetaTime(Date.parse('2025-11-02T08:59:59Z')), '2025-11-02T01:59:59-07:00');
  assert.equal(formatMetaTime(Date.parse('2025-11-02T09:00:00Z')), '2025-11-02T01:00:00-08:00');
});

test('writes the response time with milliseconds and webhooks without a colon in the offset', () => {
  const ms = Date.parse('2015-07-13T19:35:57.651Z');
  assert.equal(formatResponseTime(ms), '2015-07-13T12:35:57.651-07:00');
  assert.equal(formatLegacyWebhookTime(ms), '2015-07-13T12:35:57-0700');
  assert.equal(formatCloudEventTime(ms), '2015-07-13T19:35:57.651000000Z');
});

test('reads offsets with and without a colon, Z, and a plus sign decoded as a space', () => {
  const expected = Date.parse('2024-01-01T00:00:00+02:00');
  assert.equal(parseQboTime('2024-01-01T00:00:00+02:00'), expected);
  assert.equal(parseQboTime('2024-01-01T00:00:00 02:00'), expected);
  assert.equal(parseQboTime('2024-01-01T00:00:00+0200'), expected);
  assert.equal(parseQboTime('2023-12-31T22:00:00Z'), expected);
});

test('reads a date-only value as Pacific midnight', () => {
  assert.equal(parseQboTime('2015-11-28'), Date.parse('2015-11-28T00:00:00-08:00'));
});

test('rejects text that is not a timestamp', () => {
  assert.ok(Number.isNaN(parseQboTime('yesterday')));
});
