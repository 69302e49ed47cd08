import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

export interface Instrument {
  kind: string;
  name: string;
  unit?: string;
  /** `file:line` of the call, for messages. */
  at: string;
}

const CALL =
  /\.create(Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\(/g;

function jsFiles(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testing' || e.name === 'bench' ? [] : jsFiles(path);
    return e.name.endsWith('.js') && !e.name.endsWith('.test.js') ? [path] : [];
  });
}

/**
 * The OpenTelemetry instruments the services' compiled code creates (libs/* and services/*, tests, test
 * support and benchmarks left out). A call whose name is not a string literal is reported, not skipped: a
 * list that silently misses instruments would let a dashboard drift without failing.
 */
export function scanInstruments(root: string): { instruments: Instrument[]; unreadable: string[] } {
  const instruments: Instrument[] = [];
  const unreadable: string[] = [];
  const dists = ['libs', 'services'].flatMap((group) =>
    readdirSync(join(root, group)).map((w) => join(root, group, w, 'dist')),
  );
  for (const file of dists.flatMap(jsFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(CALL)) {
      const after = text.slice(m.index + m[0].length);
      const at = `${relative(root, file)}:${text.slice(0, m.index).split('\n').length}`;
      const name = /^\s*(['"])([^'"]+)\1/.exec(after)?.[2];
      if (!name) {
        unreadable.push(at);
        continue;
      }
      const options = after.slice(0, after.indexOf(')'));
      const unit = /\bunit:\s*(['"])([^'"]*)\1/.exec(options)?.[2];
      instruments.push({ kind: m[1] ?? '', name, ...(unit !== undefined ? { unit } : {}), at });
    }
  }
  return { instruments, unreadable };
}

/**
 * The series names Prometheus sees for these instruments, produced by the same exporter the services use
 * (`@opentelemetry/exporter-prometheus` behind METRICS_PORT): `.` becomes `_`, counters gain `_total`,
 * histograms expose `_bucket`, `_sum` and `_count`.
 */
export async function exposedNames(instruments: readonly Instrument[]): Promise<Set<string>> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('deploy-check');
  for (const { kind, name, unit } of instruments) {
    const options = unit === undefined ? {} : { unit };
    switch (kind) {
      case 'Counter':
        meter.createCounter(name, options).add(1);
        break;
      case 'UpDownCounter':
        meter.createUpDownCounter(name, options).add(1);
        break;
      case 'Histogram':
        meter.createHistogram(name, options).record(1);
        break;
      case 'Gauge':
        meter.createGauge(name, options).record(1);
        break;
      case 'ObservableGauge':
        meter.createObservableGauge(name, options).addCallback((r) => r.observe(1));
        break;
      case 'ObservableCounter':
        meter.createObservableCounter(name, options).addCallback((r) => r.observe(1));
        break;
      case 'ObservableUpDownCounter':
        meter.createObservableUpDownCounter(name, options).addCallback((r) => r.observe(1));
        break;
    }
  }
  const { resourceMetrics } = await exporter.collect();
  const text = new PrometheusSerializer().serialize(resourceMetrics);
  await provider.shutdown();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name) names.add(name);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels. */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = bare[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // a number's exponent or a duration unit
    if (/^\s*\(/.test(bare.slice(m.index + m[0].length))) continue; // a function or aggregation
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

interface Panel {
  title?: string;
  datasource?: { uid?: string } | string;
  targets?: { expr?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

/** Every query of a Grafana dashboard, with its panel's title. */
export function dashboardQueries(dashboard: {
  panels?: Panel[];
}): { panel: string; expr: string; uid?: string }[] {
  const walk = (panels: Panel[]): { panel: string; expr: string; uid?: string }[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => {
        if (!t.expr) return [];
        const uid = t.datasource?.uid ?? (typeof p.datasource === 'object' ? p.datasource.uid : undefined);
        return [{ panel: p.title ?? '(untitled)', expr: t.expr, ...(uid ? { uid } : {}) }];
      }),
      ...walk(p.panels ?? []),
    ]);
  return walk(dashboard.panels ?? []);
}

/** Each query selects at least one metric, and only metrics the code defines; each names a known datasource. */
export function checkDashboard(
  dashboard: { panels?: Panel[] },
  known: ReadonlySet<string>,
  datasourceUids: ReadonlySet<string>,
): string[] {
  const queries = dashboardQueries(dashboard);
  if (queries.length === 0) return ['the dashboard has no queries'];
  return queries.flatMap(({ panel, expr, uid }) => {
    const names = promqlMetricNames(expr);
    const problems = names
      .filter((n) => !known.has(n))
      .map((n) => `panel "${panel}": ${n} is not a metric the services expose`);
    if (names.length === 0) problems.push(`panel "${panel}": no metric in ${expr}`);
    if (!uid || !datasourceUids.has(uid))
      problems.push(`panel "${panel}": datasource uid ${uid} is not provisioned`);
    return problems;
  });
}
