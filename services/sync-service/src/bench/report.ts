// The strategies bench's tables, as Markdown so the README can hold them as printed.
import type { EdgeResult } from './edge-cases.js';
import type { StrategiesReport } from './strategies.js';
import { ENTITIES, type Measured } from './strategy-kit.js';

const pad = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');

/** A table as Markdown, so the README can hold it as printed. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [
    `| ${pad(header, widths)} |`,
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => `| ${pad(r, widths)} |`),
  ].join('\n');
}

const row = (m: Measured) => [
  m.strategy,
  String(m.calls),
  `${(m.wallMs / 1000).toFixed(1)} s`,
  String(m.throttled),
  String(m.missed),
  String(m.wrong),
  m.failed ? `run failed: ${m.failed.slice(0, 60)}` : '',
];
const header = ['strategy', 'API calls', 'wall time', '429s', 'missed', 'wrong', 'note'];

export const formatEdge = (e: EdgeResult): string =>
  [`Edge case: ${e.scenario}`, table(header, e.results.map(row))].join('\n');

export function formatReport(report: StrategiesReport): string {
  const parts = [
    `Initial load: ${report.records.toLocaleString('en')} records over ${ENTITIES.length} entities`,
    table(header, report.initial.map(row)),
  ];
  for (const e of report.edges) parts.push('', formatEdge(e));
  return parts.join('\n');
}
