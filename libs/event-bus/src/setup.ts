import { type PlatformService, platformServices } from '@qbo/events';
import { createKafka, env, kafkaSecurity, kafkaSecurityEnvShape, type Logger } from '@qbo/service-kit';
import { z } from 'zod';
import { applyAcls, platformAcls } from './acls.js';
import { eventBusEnvShape } from './config.js';
import { provisionFromConfig } from './provision.js';

/**
 * What a cluster's one-shot setup reads (the compose stack's `kafka-setup` service): the admin's connection,
 * in the services' own variables, and the topic settings the services would provision with.
 */
export const kafkaSetupEnvSchema = z.object({
  KAFKA_BROKERS: env.hostPortList(),
  KAFKA_CLIENT_ID: z.string().min(1).default('kafka-setup'),
  ...kafkaSecurityEnvShape,
  ...eventBusEnvShape,
  /** A principal that reads consumer lag (an exporter, KEDA): describe on the groups and consumed topics. */
  KAFKA_LAG_READER: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  /** The services whose lag it reads, comma-separated; all of them by default. */
  KAFKA_LAG_READER_SERVICES: z
    .string()
    .transform((v) => v.split(',').filter((s) => s.length > 0))
    .pipe(z.array(z.enum(platformServices)).min(1))
    .optional(),
});
export type KafkaSetupConfig = z.output<typeof kafkaSetupEnvSchema>;

/**
 * Creates the contract's topics as the services would at start (`provisionFromConfig`, same settings), then
 * the contract's ACLs (`platformAcls`, what `npm run acls` prints), through an admin (super user's) connection.
 * Both are idempotent, so it can run before every start.
 */
export async function setupKafka(config: KafkaSetupConfig, log: Logger): Promise<void> {
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    log,
    security: kafkaSecurity(config),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await provisionFromConfig(admin, config);
    const services: readonly PlatformService[] = config.KAFKA_LAG_READER_SERVICES ?? platformServices;
    const acls = platformAcls({
      prefix: config.KAFKA_TOPIC_PREFIX,
      ...(config.KAFKA_LAG_READER ? { lagReader: { principal: config.KAFKA_LAG_READER, services } } : {}),
    });
    await applyAcls(admin, acls);
    log.info({ acls: acls.length }, 'kafka topics and ACLs in place');
  } finally {
    await admin.disconnect();
  }
}
