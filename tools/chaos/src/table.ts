import type { ChaosReport } from './run.js';

/** The run as printed: the faults it made, the load it carried, then one line per invariant (must be 0). */
export function formatReport(report: ChaosReport, elapsedMs: number): string {
  const lines: string[] = [];
  lines.push('');
  lines.push(`chaos run, seed ${report.seed}, ${(elapsedMs / 1000).toFixed(0)} s in all`);
  lines.push('');
  lines.push('faults injected');
  for (const [kind, n] of [...report.faults].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`  ${kind.padEnd(22)} ${String(n).padStart(4)}`);
  const t = report.tally;
  lines.push('');
  lines.push(
    `workload: ${t.connects} connects (${t.connectFailures} failed and retried), ${t.changes} changes at ` +
      `Intuit (${t.changeFailures} failed), ${t.pushes} push commands (${t.publishRetries} sends retried), ` +
      `${t.tokenExpiries} access tokens ended early`,
  );
  lines.push(`converged ${(report.convergedMs / 1000).toFixed(1)} s after the last fault`);
  lines.push('');
  const width = Math.max(...report.rows.map((r) => r.invariant.length));
  lines.push(`${'invariant'.padEnd(width)}  ${'checked'.padStart(8)}  ${'count'.padStart(5)}`);
  for (const r of report.rows) {
    lines.push(
      `${r.invariant.padEnd(width)}  ${String(r.checked).padStart(8)}  ${String(r.count).padStart(5)}`,
    );
  }
  for (const r of report.rows.filter((x) => x.count > 0)) {
    lines.push('');
    lines.push(`${r.invariant}:`);
    for (const d of r.detail.slice(0, 20)) lines.push(`  ${d}`);
    if (r.detail.length > 20) lines.push(`  … and ${r.detail.length - 20} more`);
  }
  lines.push('');
  lines.push(report.ok ? 'every invariant held (all counts 0)' : 'INVARIANTS BROKEN (see the counts above)');
  return lines.join('\n');
}
