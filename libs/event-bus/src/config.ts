import { DEFAULT_MAX_MESSAGE_BYTES } from '@qbo/events';
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
  /**
   * `max.message.bytes` of every contract topic, and the limit the outbox checks each event against and the
   * producer fills its requests up to. Keep the broker's `message.max.bytes` at least this large.
   */
  KAFKA_MAX_MESSAGE_BYTES: env.positiveInt(DEFAULT_MAX_MESSAGE_BYTES),
  /** The state topic keeps an hour of history uncompacted, so a reader just behind the head misses nothing. */
  KAFKA_STATE_MIN_COMPACTION_LAG_MS: env.positiveInt(3_600_000),
  /** How long a tombstone stays: the longest a bootstrap from the state topic may take and still see deletes. */
  KAFKA_STATE_DELETE_RETENTION_MS: env.positiveInt(7 * DAY_MS),
  /** Segment roll time of the state topic: the active segment is never compacted. */
  KAFKA_STATE_SEGMENT_MS: env.positiveInt(DAY_MS),
  /**
   * The longest a state-topic message stays uncompacted: a purged record's values leave the topic within
   * about this (plus a cleaner pass) once its tombstone is written.
   */
  KAFKA_STATE_MAX_COMPACTION_LAG_MS: env.positiveInt(DAY_MS),
  /** Segment roll time of the log topics: a message stays at most their retention plus this. */
  KAFKA_TOPIC_SEGMENT_MS: env.positiveInt(DAY_MS),
} as const;

export const eventBusEnvSchema = z.object(eventBusEnvShape);
export type EventBusConfig = z.output<typeof eventBusEnvSchema>;
