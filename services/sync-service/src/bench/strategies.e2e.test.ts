import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, oursBroken, runStrategies } from './strategies.js';

// The short form of `npm run bench`: small companies, the peers' non-429 back-offs shortened.
test('sync strategies side by side: ours misses nothing, is never throttled, and uses no more calls than any peer', {
  timeout: 900_000,
}, async () => {
  const report = await runStrategies({ records: 1_000, edgeRecords: 1_000, backoffScale: 0.02 });
  const printed = formatReport(report);
  assert.deepEqual(oursBroken(report), [], printed);
  const scenarios = [{ scenario: 'initial load', results: report.initial }, ...report.edges];
  for (const { scenario, results } of scenarios) {
    const ours = results.find((m) => m.strategy === 'ours');
    assert.ok(ours, scenario);
    for (const peer of results.filter((m) => m.strategy !== 'ours')) {
      assert.ok(
        ours.calls <= peer.calls,
        `${scenario}: ours ${ours.calls} calls, ${peer.strategy} ${peer.calls}\n${printed}`,
      );
    }
  }
});
