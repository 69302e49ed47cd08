import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSteady, runSteady } from './steady.js';

// The short form of `npm run bench -- steady`: a few companies, two compressed intervals.
test('steady state: ours brings every change in with fewer calls per change than any peer’s polling', {
  timeout: 300_000,
}, async () => {
  const report = await runSteady({
    orgs: 5,
    rounds: 2,
    roundSeconds: 9,
    changesPerRound: 3,
    sample: 1,
    intervalMinutes: 15,
    backoffScale: 0.02,
  });
  const printed = formatSteady(report);
  process.stdout.write(`${printed}\n`);
  assert.equal(report.oursBehind, 0, printed);
  const ours = report.rows.find((r) => r.strategy === 'ours');
  assert.ok(ours, printed);
  assert.equal(report.rows.length, 4, printed);
  for (const peer of report.rows.filter((r) => r.strategy !== 'ours')) {
    assert.ok(
      ours.perHour <= peer.perHour,
      `${peer.strategy}: ${peer.perHour} calls/h, ours ${ours.perHour}\n${printed}`,
    );
  }
});
