import { runService } from '@qbo/service-kit';
import { service } from './service.js';
import { telemetry } from './telemetry.js';

await runService(service, { env: process.env, telemetry });
