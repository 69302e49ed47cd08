import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLatency, runLatency } from './latency.js';

// The short form of `npm run bench -- latency`: every change reaches a plain consumer as its event. The
// percentiles are printed, never asserted (a slow day is not a failure).
test('latency: every change at Intuit reaches a plain kafkajs consumer as a RecordUpserted', {
  timeout: 240_000,
}, async () => {
  const report = await runLatency({ rate: 2, seconds: 15 });
  const printed = formatLatency(report);
  process.stdout.write(`${printed}\n`);
  assert.equal(report.changes, 30, printed);
  assert.equal(report.lost, 0, printed);
  assert.equal(report.fromChange.n, 30, printed);
});
