import { type TopicName, topicSpecs } from '@qbo/events';
import type { Admin, ITopicConfig } from 'kafkajs';
import type { EventBusConfig } from './config.js';
import { createTopicNames, type TopicNames } from './topic-names.js';

export interface ProvisionOptions {
  admin: Admin;
  names?: TopicNames;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
  /** For the parking topic, whose changes wait for their realm to be connected. */
  parkingRetentionMs: number;
  dlqRetentionMs: number;
  /** Only these contract topics (and their DLQs); all by default. */
  only?: readonly TopicName[];
}

/** The topics the contract needs, with partitions, replication and retention, ready for `createTopics`. */
export function plannedTopics({
  names = createTopicNames(),
  partitions,
  replicationFactor,
  retentionMs,
  parkingRetentionMs,
  dlqRetentionMs,
  only,
}: Omit<ProvisionOptions, 'admin'>): ITopicConfig[] {
  const specs = only ? topicSpecs.filter((t) => only.includes(t.name)) : topicSpecs;
  return specs.flatMap((spec) => {
    const main: ITopicConfig = {
      topic: names.physical(spec.name),
      numPartitions: partitions,
      replicationFactor,
      configEntries: [
        { name: 'retention.ms', value: String(spec.retention === 'long' ? parkingRetentionMs : retentionMs) },
        { name: 'cleanup.policy', value: 'delete' },
        // With acks=all, a write survives a broker loss only if another replica has it too.
        { name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) },
      ],
    };
    if (!spec.dlq) return [main];
    // A DLQ needs no parallelism; few partitions keep it cheap, and its longer retention leaves time to triage.
    const dlq: ITopicConfig = {
      topic: names.dlq(spec.name),
      numPartitions: Math.min(3, partitions),
      replicationFactor,
      configEntries: [
        { name: 'retention.ms', value: String(dlqRetentionMs) },
        { name: 'cleanup.policy', value: 'delete' },
      ],
    };
    return [main, dlq];
  });
}

/**
 * Creates the contract's topics that do not exist yet; existing ones are left as they are (changing
 * partitions reshuffles keys, so it is an operator's decision). Returns the names it created. A busy broker
 * may answer the leader wait with a retriable error (UNKNOWN_TOPIC_OR_PARTITION while metadata spreads); the
 * attempt is then repeated for the topics still missing, a few times with backoff.
 */
export async function provisionTopics({ admin, ...options }: ProvisionOptions): Promise<string[]> {
  const planned = plannedTopics(options);
  const before = new Set(await admin.listTopics());
  const created = planned.filter((t) => !before.has(t.topic)).map((t) => t.topic);
  let existing = before;
  for (let attempt = 1; ; attempt++) {
    const missing = planned.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return created;
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: true });
      return created;
    } catch (err) {
      if (attempt >= 5 || (err as { retriable?: unknown }).retriable !== true) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
      existing = new Set(await admin.listTopics());
    }
  }
}

/**
 * What a service does at start-up: the contract's topics under its configured prefix, with the configured
 * partitions, replication and retention. Returns the names, for its producer, consumers and relay.
 */
export async function provisionFromConfig(admin: Admin, config: EventBusConfig): Promise<TopicNames> {
  const names = createTopicNames(config.KAFKA_TOPIC_PREFIX);
  await provisionTopics({
    admin,
    names,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_TOPIC_REPLICATION,
    retentionMs: config.KAFKA_TOPIC_RETENTION_MS,
    parkingRetentionMs: config.KAFKA_PARKING_RETENTION_MS,
    dlqRetentionMs: config.KAFKA_DLQ_RETENTION_MS,
  });
  return names;
}
