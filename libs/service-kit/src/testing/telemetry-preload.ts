import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTelemetry } from '../telemetry.js';

// The same bootstrap the services preload, with an in-memory exporter in place of OTLP.
export const exporter = new InMemorySpanExporter();
export const telemetry = startTelemetry({
  serviceName: 'telemetry-fixture',
  env: process.env,
  spanExporter: exporter,
});
