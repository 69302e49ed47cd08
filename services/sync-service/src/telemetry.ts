import { startTelemetry } from '@qbo/service-kit/telemetry';

// Preloaded with `node --import` so instrumentation is in place before any other module loads.
export const telemetry = startTelemetry({ serviceName: 'sync-service', env: process.env });
