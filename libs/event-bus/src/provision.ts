import { DEFAULT_MAX_MESSAGE_BYTES, type TopicName, type TopicSpec, topicSpecs } from '@qbo/events';
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
  /** `max.message.bytes` of every contract topic (Kafka's usual 1 MiB by default). */
  maxMessageBytes?: number;
  /** Segment roll time of the log (delete) topics; `DEFAULT_LOG_SEGMENT_MS` by default. */
  segmentMs?: number;
  /** Compaction settings of compacted topics (`qbo.records.state.v1`); defaults in `defaultCompaction`. */
  compaction?: Partial<CompactionSettings>;
  /** Only these contract topics (and their DLQs); all by default. */
  only?: readonly TopicName[];
}

export interface CompactionSettings {
  /** How long a message stays uncompacted, so readers near the head see every version. */
  minCompactionLagMs: number;
  /** How long a tombstone stays after compaction: the longest a bootstrap may take and still see deletes. */
  deleteRetentionMs: number;
  /** Segment roll time: only rolled segments are compacted. */
  segmentMs: number;
  /**
   * The longest a message may stay uncompacted, whatever the share of the log that is dirty: bounds how long a
   * purged record's values stay on the state topic behind their tombstones (without it, a small purge on a
   * large topic waits until half the topic is dirty).
   */
  maxCompactionLagMs: number;
}

export const defaultCompaction: CompactionSettings = {
  minCompactionLagMs: 3_600_000,
  deleteRetentionMs: 7 * 86_400_000,
  segmentMs: 86_400_000,
  maxCompactionLagMs: 86_400_000,
};

export const DEFAULT_LOG_SEGMENT_MS = 86_400_000;

type Planned = Omit<ProvisionOptions, 'admin'>;

/** Retention by age for log topics; compaction by key for state topics. */
function cleanupEntries(spec: TopicSpec, o: Planned): { name: string; value: string }[] {
  if (spec.cleanup === 'compact') {
    const c = { ...defaultCompaction, ...o.compaction };
    return [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'min.compaction.lag.ms', value: String(c.minCompactionLagMs) },
      { name: 'delete.retention.ms', value: String(c.deleteRetentionMs) },
      { name: 'segment.ms', value: String(c.segmentMs) },
      // Kafka refuses a maximum below the minimum.
      { name: 'max.compaction.lag.ms', value: String(Math.max(c.maxCompactionLagMs, c.minCompactionLagMs)) },
    ];
  }
  const retention = spec.retention === 'long' ? o.parkingRetentionMs : o.retentionMs;
  return [
    { name: 'retention.ms', value: String(retention) },
    { name: 'cleanup.policy', value: 'delete' },
    // Retention deletes whole segments: a segment no longer than this keeps a message at most retention + this
    // (Kafka's default roll is a week).
    { name: 'segment.ms', value: String(Math.min(retention, o.segmentMs ?? DEFAULT_LOG_SEGMENT_MS)) },
  ];
}

/** The topics the contract needs, with partitions, replication and retention, ready for `createTopics`. */
export function plannedTopics(options: Planned): ITopicConfig[] {
  const { names = createTopicNames(), partitions, replicationFactor, dlqRetentionMs, only } = options;
  const maxMessageBytes = String(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const specs = only ? topicSpecs.filter((t) => only.includes(t.name)) : topicSpecs;
  return specs.flatMap((spec) => {
    const main: ITopicConfig = {
      topic: names.physical(spec.name),
      numPartitions: partitions,
      replicationFactor,
      configEntries: [
        ...cleanupEntries(spec, options),
        // With acks=all, a write survives a broker loss only if another replica has it too.
        { name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) },
        // The limit the outbox checks events against and the producer fills its requests up to.
        { name: 'max.message.bytes', value: maxMessageBytes },
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
        // A dead letter carries the original message plus a few headers.
        { name: 'max.message.bytes', value: maxMessageBytes },
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
    maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
    segmentMs: config.KAFKA_TOPIC_SEGMENT_MS,
    compaction: {
      minCompactionLagMs: config.KAFKA_STATE_MIN_COMPACTION_LAG_MS,
      deleteRetentionMs: config.KAFKA_STATE_DELETE_RETENTION_MS,
      segmentMs: config.KAFKA_STATE_SEGMENT_MS,
      maxCompactionLagMs: config.KAFKA_STATE_MAX_COMPACTION_LAG_MS,
    },
  });
  return names;
}
