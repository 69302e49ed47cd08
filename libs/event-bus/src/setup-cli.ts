import { ConfigError, createLogger, parseConfig } from '@qbo/service-kit';
import { kafkaSetupEnvSchema, setupKafka } from './setup.js';

/**
 * One-shot cluster setup from the environment (see `kafkaSetupEnvSchema`): the contract's topics, then its
 * ACLs, as the admin. Exits 0 when both are in place, 1 otherwise (a config problem is listed by variable).
 */
const log = createLogger({ service: 'kafka-setup' });
try {
  await setupKafka(parseConfig(kafkaSetupEnvSchema, process.env), log);
} catch (err) {
  if (err instanceof ConfigError) log.fatal({ problems: err.problems }, 'invalid configuration');
  else log.fatal({ err }, 'kafka setup failed');
  process.exitCode = 1;
}
