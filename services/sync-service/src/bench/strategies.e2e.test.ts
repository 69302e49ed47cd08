import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, oursBroken, runStrategies } from './strategies.js';

// The short form of `npm run bench`: small companies, the peers' back-offs on errors other than 429 shortened.
test('sync strategies side by side: ours misses nothing, is never throttled, and stays within the peers’ calls', {
  timeout: 900_000,
}, async () => {
  // The edge cases are left to `npm run bench`: the peers' 429 waits, which are real, take minutes there.
  const report = await runStrategies({ records: 1_000, edgeRecords: 0, backoffScale: 0.02 });
  const printed = formatReport(report);
  assert.deepEqual(oursBroken(report), [], printed);
  const ours = report.initial.find((m) => m.strategy === 'ours');
  assert.ok(ours, printed);
  for (const peer of report.initial.filter((m) => m.strategy !== 'ours')) {
    // Ours counts every entity in one `/batch` call and reads small entities' whole windows together in
    // another, so even Singer's one page per entity at 1,000 a page spends more on a small company.
    assert.ok(
      ours.calls <= peer.calls,
      `initial load: ours ${ours.calls} calls, ${peer.strategy} ${peer.calls}\n${printed}`,
    );
  }
});
