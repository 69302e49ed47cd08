import type { IncomingMessage, ServerResponse } from 'node:http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { createSpanRedactor } from './span-redaction.js';

export interface TelemetryOptions {
  serviceName: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Replaces the OTLP exporter, exporting each span as it ends (tests use an in-memory exporter). */
  spanExporter?: SpanExporter;
}

export interface Telemetry {
  /** Flushes pending spans and metrics; the last shutdown step. */
  shutdown(): Promise<void>;
  /** Answers a Prometheus scrape, when `METRICS_PORT` is set; the service serves it on that port. */
  metricsHandler?: (request: IncomingMessage, response: ServerResponse) => void;
}

const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/**
 * Starts OpenTelemetry for a service. It must run before any instrumented module is imported, so each
 * service loads it with `node --import ./dist/telemetry.js dist/main.js`.
 *
 * ESM imports are patched by import-in-the-middle's synchronous in-thread hooks (`module.registerHooks`):
 * the documented `--experimental-loader` flag hangs on Node 24+ (open-telemetry/opentelemetry-js#6203), a
 * bare `--import` of the hook silently patches nothing (#7034), and `module.register()` is deprecated from
 * Node 26 (DEP0205).
 *
 * Export is OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces/metrics-specific variable) is set
 * and off otherwise, and metrics are also offered for scraping when `METRICS_PORT` is set; spans are still created so trace ids reach logs and Kafka headers. Logs go to stdout
 * through pino, never to an OTLP log exporter. `OTEL_SDK_DISABLED=true` turns it all off. What a span may
 * carry is decided once, in `createSpanRedactor`: no query value, Kafka key, SQL literal or database error text.
 */
export function startTelemetry({ serviceName, env, spanExporter }: TelemetryOptions): Telemetry {
  if (env.OTEL_SDK_DISABLED === 'true') return { shutdown: async () => undefined };
  register();

  const tracesOn = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const metricsOn = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  // The redactor comes first: every processor's `onEnding` runs before any exports the span.
  const spanProcessors = [
    createSpanRedactor(),
    spanExporter
      ? new SimpleSpanProcessor({ exporter: spanExporter })
      : tracesOn
        ? new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })
        : // Spans without export still carry trace ids into logs and Kafka headers.
          new NoopSpanProcessor(),
  ];

  // Pulled by Prometheus from a port of its own (never the public one), served by the service itself.
  const prometheus = env.METRICS_PORT ? new PrometheusExporter({ preventServerStart: true }) : undefined;
  const readers = [
    ...(metricsOn ? [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })] : []),
    ...(prometheus ? [prometheus] : []),
  ];

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    spanProcessors,
    metricReaders: readers,
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => PROBE_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new UndiciInstrumentation(),
      // Bound parameter values stay out of spans (`db.postgresql.values` is recorded only when enhanced).
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new KafkaJsInstrumentation(),
    ],
  });
  sdk.start();
  return {
    shutdown: () => sdk.shutdown(),
    ...(prometheus ? { metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res) } : {}),
  };
}
