import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkScrapeTargets, metricsTargetsOf } from './compose-checks.js';
import { environmentOf, parseYaml, read } from './compose-files.js';
import {
  checkDashboard,
  dashboardQueries,
  exposedNames,
  promqlMetricNames,
  scanInstruments,
} from './compose-metrics.js';
import { APP, broken, compose, envOf, serviceOf, someMatch } from './compose-test-kit.js';
import { repoRoot } from './service-config.js';

// Prometheus, the OpenTelemetry collector, Grafana and the alert rules of the compose stack, checked against
// the metrics the compiled code defines; each check also fails on a broken copy.

describe('Prometheus, the collector and Grafana', () => {
  const prometheus = parseYaml(read('deploy/compose/prometheus/prometheus.yml'));
  const collector = parseYaml(read('deploy/compose/otel-collector/config.yaml')) as {
    exporters: Record<string, { endpoint?: string }>;
    service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
  };
  const collectorMetricsPort = collector.exporters.prometheus?.endpoint?.split(':').at(-1);
  const kafkaExporterPort = String(serviceOf(compose, 'kafka-exporter').ports?.[0] ?? '')
    .split(':')
    .at(-1);
  const expected = [
    ...metricsTargetsOf(compose),
    `otel-collector:${collectorMetricsPort}`,
    `kafka-exporter:${kafkaExporterPort}`,
  ];

  test('Prometheus scrapes every metrics port compose sets, the collector and kafka-exporter', () => {
    assert.deepEqual(
      APP.map((s) => expected.some((t) => t.startsWith(`${s}:`))),
      APP.map(() => true),
      'every service sets METRICS_PORT',
    );
    assert.deepEqual(checkScrapeTargets(prometheus, expected), []);
    const moved = broken((c) => {
      envOf(c, 'sync-service').METRICS_PORT = '9465';
    });
    someMatch(checkScrapeTargets(prometheus, metricsTargetsOf(moved)), /does not scrape sync-service:9465/);
  });

  test('the collector takes OTLP in and sends traces to Jaeger and metrics to its Prometheus endpoint', () => {
    const { traces, metrics } = collector.service.pipelines;
    assert.ok(traces?.receivers.includes('otlp') && metrics?.receivers.includes('otlp'));
    const tracesTo = (traces?.exporters ?? []).map((e) => collector.exporters[e]?.endpoint ?? '');
    assert.ok(
      tracesTo.some((endpoint) => endpoint.startsWith('jaeger:')),
      `traces go to ${tracesTo}`,
    );
    assert.ok(metrics?.exporters.includes('prometheus'));
    const tracesEndpoint = environmentOf(
      serviceOf(compose, 'token-service'),
    ).OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    assert.match(
      tracesEndpoint ?? '',
      /^http:\/\/otel-collector:4318\//,
      'services send traces to the collector',
    );
  });

  test('the dashboard queries only metrics the code defines, on the provisioned datasource', async () => {
    const { instruments, unreadable } = scanInstruments(repoRoot);
    assert.deepEqual(unreadable, [], 'every instrument name in the compiled code is a literal');
    assert.ok(instruments.length > 0, 'the compiled code was found (run the build first)');
    const known = await exposedNames(instruments);
    const datasources = parseYaml(
      read('deploy/compose/grafana/provisioning/datasources/datasources.yaml'),
    ) as {
      datasources: { uid: string; type: string }[];
    };
    const uids = new Set(datasources.datasources.filter((d) => d.type === 'prometheus').map((d) => d.uid));
    const dashboardText = read('deploy/compose/grafana/dashboards/qbo-platform.json');
    assert.deepEqual(checkDashboard(JSON.parse(dashboardText), known, uids), []);

    // The name the collector's exporter would give (unit suffix) is not the one the services expose.
    const renamed = JSON.parse(
      dashboardText.replaceAll(
        'qbo_tokens_refresh_duration_bucket',
        'qbo_tokens_refresh_duration_milliseconds_bucket',
      ),
    );
    someMatch(
      checkDashboard(renamed, known, uids),
      /qbo_tokens_refresh_duration_milliseconds_bucket is not a metric/,
    );

    // The sync row reads sync-service's gauges and histograms; a name the code does not define fails it too.
    const syncQueries = dashboardQueries(JSON.parse(dashboardText))
      .filter((q) => /qbo_sync_/.test(q.expr))
      .map((q) => q.panel);
    assert.deepEqual(
      [...new Set(syncQueries)],
      ['Freshness', 'Runs and open errors', 'Intuit calls', 'Budget waits and run duration'],
    );
    const staleName = JSON.parse(
      dashboardText.replaceAll('qbo_sync_oldest_sync_age', 'qbo_sync_freshness_seconds'),
    );
    someMatch(
      checkDashboard(staleName, known, uids),
      /panel "Freshness": qbo_sync_freshness_seconds is not a metric/,
    );
    // Freshness per connection beside the stalest company's.
    assert.ok(
      dashboardQueries(JSON.parse(dashboardText)).some(
        (q) => q.panel === 'Freshness' && q.expr.includes('qbo_sync_connection_sync_age'),
      ),
    );
  });
});

describe('Prometheus alert rules', () => {
  const rules = () =>
    (
      parseYaml(read('deploy/compose/prometheus/alerts.yml')) as {
        groups: { rules: { alert: string; expr: string; labels?: { severity?: string } }[] }[];
      }
    ).groups.flatMap((g) => g.rules);

  test('are loaded by Prometheus and mounted where it reads them', () => {
    const config = parseYaml(read('deploy/compose/prometheus/prometheus.yml')) as { rule_files?: string[] };
    assert.deepEqual(config.rule_files, ['/etc/prometheus/alerts.yml']);
    assert.match(
      read('docker-compose.yml'),
      /- \.\/deploy\/compose\/prometheus\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro/,
    );
  });

  test('alert only on metrics the code defines, and on every step of the refresh pause', async () => {
    const known = await exposedNames(scanInstruments(repoRoot).instruments);
    const unknown = (expr: string) => promqlMetricNames(expr).filter((n) => !known.has(n));
    for (const rule of rules()) {
      assert.deepEqual(unknown(rule.expr), [], `${rule.alert}: ${rule.expr}`);
      assert.ok(rule.labels?.severity, `${rule.alert} has a severity`);
    }
    // The check can fail: a name the code does not define is reported.
    assert.deepEqual(unknown('increase(qbo_tokens_app_paused_total[5m]) > 0'), [
      'qbo_tokens_app_paused_total',
    ]);
    const pauseStates = rules()
      .map((r) => /qbo_tokens_app_pause_transitions_total\{state="(\w+)"\}/.exec(r.expr)?.[1])
      .filter((s) => s !== undefined)
      .sort();
    assert.deepEqual(pauseStates, ['paused', 'probe_failed', 'resumed']);
    assert.ok(rules().some((r) => r.expr.includes('qbo_tokens_shred_revoke_total{outcome="given_up"}')));
  });
});
