import type { ServiceDefinition } from '@qbo/service-kit';
import { type Config, configSchema } from './config.js';
import { migrations } from './store/migrations.js';

export const service: ServiceDefinition<Config> = {
  name: 'token-service',
  schema: 'token',
  configSchema,
  migrations,
};
