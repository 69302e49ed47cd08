import { env } from '@qbo/service-kit';
import { z } from 'zod';

const DAY_MS = 86_400_000;

/** The variables a service that uses the event bus adds to its config schema. */
export const eventBusEnvShape = {
  /** Confluent-compatible registry (Apicurio: `…/apis/ccompat/v7`); local validation only when unset. */
  SCHEMA_REGISTRY_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Prepended to every topic name: isolates environments (or test runs) that share a cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,40}\.$/, 'must be lower-case and end with a dot')
    .optional(),
  KAFKA_TOPIC_PARTITIONS: env.positiveInt(12),
  KAFKA_TOPIC_REPLICATION: env.positiveInt(1),
  KAFKA_TOPIC_RETENTION_MS: env.positiveInt(7 * DAY_MS),
  KAFKA_PARKING_RETENTION_MS: env.positiveInt(30 * DAY_MS),
  KAFKA_DLQ_RETENTION_MS: env.positiveInt(30 * DAY_MS),
} as const;

export const eventBusEnvSchema = z.object(eventBusEnvShape);
export type EventBusConfig = z.output<typeof eventBusEnvSchema>;
