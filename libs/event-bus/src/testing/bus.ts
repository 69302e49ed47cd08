import { type TopicName, topicSpecs } from '@qbo/events';
import { createKafka, createLogger, type Logger } from '@qbo/service-kit';
import { testBrokers, uniqueName } from '@qbo/testkit';
import type { Kafka } from 'kafkajs';
import { createEventProducer, type EventProducer } from '../producer.js';
import { type CompactionSettings, provisionTopics } from '../provision.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTopicNames, type TopicNames } from '../topic-names.js';

export interface TestBus {
  kafka: Kafka;
  names: TopicNames;
  /** Topic names prefixed for this run, so parallel suites never read each other's messages. */
  prefix: string;
  log: Logger;
}

/** A logger that stays quiet in tests unless TEST_LOG_LEVEL asks for more. */
export const testLogger = (service = 'event-bus-test'): Logger =>
  createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * A Kafka client and the contract's topics under a prefix unique to this run, created up front (the broker
 * does not auto-create topics).
 */
export async function createTestBus({
  brokers = testBrokers(),
  topics = topicSpecs.map((t) => t.name),
  partitions = 3,
  log = testLogger(),
  maxMessageBytes,
  compaction,
}: {
  brokers?: string[];
  topics?: readonly TopicName[];
  partitions?: number;
  log?: Logger;
  /** `max.message.bytes` of the topics; Kafka's usual 1 MiB by default. */
  maxMessageBytes?: number;
  /** For compacted topics: small segments and no lag let a test see compaction happen. */
  compaction?: Partial<CompactionSettings>;
} = {}): Promise<TestBus> {
  const prefix = `${uniqueName('t')}.`;
  const names = createTopicNames(prefix);
  const kafka = createKafka({ brokers, clientId: 'event-bus-test', log });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await provisionTopics({
      admin,
      names,
      only: topics,
      partitions,
      replicationFactor: 1,
      retentionMs: 3_600_000,
      parkingRetentionMs: 3_600_000,
      dlqRetentionMs: 3_600_000,
      ...(maxMessageBytes ? { maxMessageBytes } : {}),
      ...(compaction ? { compaction } : {}),
    });
  } finally {
    await admin.disconnect();
  }
  return { kafka, names, prefix, log };
}

/** A connected producer of plain JSON events on the bus's topics, for a test to play another service. */
export async function createTestProducer(bus: TestBus): Promise<EventProducer> {
  const producer = createEventProducer({
    kafka: bus.kafka,
    serde: createJsonSerde(),
    log: bus.log,
    names: bus.names,
  });
  await producer.connect();
  return producer;
}
