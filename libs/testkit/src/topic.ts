import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { testBrokers, uniqueName } from './kafka.js';
import { waitFor } from './wait.js';

export interface TopicMessage {
  partition: number;
  message: KafkaMessage;
}

/**
 * Every message a topic holds when called: each partition from its first offset to its end offset, read with
 * a throwaway group, in partition and offset order. Unlike waiting for a count, it cannot stop early on
 * someone else's messages, and an empty answer means an empty topic. (Offsets must be contiguous, as they are
 * without transactions.)
 */
export async function readToEnd(
  topic: string,
  { kafka, timeoutMs = 60_000 }: { kafka?: Kafka; timeoutMs?: number } = {},
): Promise<TopicMessage[]> {
  const client =
    kafka ?? new Kafka({ clientId: 'testkit-reader', brokers: testBrokers(), logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const pending = new Set(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition));
  const seen: TopicMessage[] = [];
  if (pending.size === 0) return seen;

  // A short fetch wait: disconnecting waits for the fetch in flight.
  const consumer = client.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const end = ends.get(partition) ?? 0;
        const offset = Number(message.offset);
        if (offset < end) seen.push({ partition, message });
        if (offset >= end - 1) pending.delete(partition);
      },
    });
    await waitFor(() => pending.size === 0, { timeoutMs, what: `${topic} read to its end offsets` });
  } finally {
    await consumer.disconnect();
  }
  return seen.sort(
    (a, b) => a.partition - b.partition || Number(a.message.offset) - Number(b.message.offset),
  );
}
