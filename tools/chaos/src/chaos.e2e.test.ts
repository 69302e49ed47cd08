import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FAULT_KINDS } from './faults.js';
import { runChaos } from './run.js';
import { formatReport } from './table.js';

// The short form of `npm run chaos`: one minute of faults on a fixed seed, then every invariant counted. The
// long form (10 minutes, any seed) is the command; see the README's Reliability section.
const SEED = 2121;

describe('npm run chaos, the one-minute form', () => {
  it('kills every service, restarts the broker, cuts Postgres and Redis, storms and jumps Intuit for 60 s under load, and every invariant counts 0', {
    timeout: 600_000,
  }, async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'chaos-'));
    const lines: string[] = [];
    const started = Date.now();
    try {
      const report = await runChaos({
        seed: SEED,
        durationMs: 60_000,
        quietMs: 240_000,
        companies: 4,
        initialOrgs: 2,
        records: 100,
        runDir,
        log: (line) => {
          if (line.startsWith('[chaos]')) lines.push(line);
        },
      });
      const table = formatReport(report, Date.now() - started);
      // Every kind of fault happened at least once: a run that broke nothing would prove nothing.
      assert.deepEqual([...report.faults.keys()].sort(), [...FAULT_KINDS].sort(), table);
      assert.ok(report.tally.pushes > 0 && report.tally.changes > 0, table);
      for (const row of report.rows) assert.ok(row.checked > 0 || row.invariant.startsWith('Intuit'), table);
      assert.deepEqual(
        report.rows.filter((r) => r.count > 0).map((r) => r.invariant),
        [],
        `${lines.join('\n')}\n${table}`,
      );
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
