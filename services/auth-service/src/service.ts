import type { ServiceDefinition } from '@qbo/service-kit';
import { type Config, configSchema } from './config.js';
import { migrations } from './store/migrations.js';

export const service: ServiceDefinition<Config> = {
  name: 'auth-service',
  schema: 'auth',
  configSchema,
  migrations,
};
