import { uniqueName, waitFor } from '@qbo/testkit';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface RawMessage {
  partition: number;
  message: KafkaMessage;
}

/**
 * Reads a topic from the beginning with a throwaway group, raw bytes, no decoding, keeping what `keep` accepts,
 * until `done` holds.
 */
async function readUntil(
  kafka: Kafka,
  topic: string,
  keep: (m: RawMessage) => boolean,
  done: (seen: readonly RawMessage[]) => boolean,
  { timeoutMs, what }: { timeoutMs: number; what: string },
): Promise<RawMessage[]> {
  const seen: RawMessage[] = [];
  // A short fetch wait: disconnecting waits for the fetch in flight.
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async (m) => {
        if (keep(m)) seen.push({ partition: m.partition, message: m.message });
      },
    });
    await waitFor(() => done(seen), { timeoutMs, what });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Reads a topic from the beginning with a throwaway group until `count` messages arrived; raw bytes, no decoding. */
export function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<RawMessage[]> {
  return readUntil(
    kafka,
    topic,
    () => true,
    (seen) => seen.length >= count,
    { timeoutMs, what: `${count} messages on ${topic}` },
  );
}

/**
 * Reads every message a topic holds now, from its earliest offset up to the end offsets taken at the start,
 * raw. For compacted topics, whose offsets have holes: it stops on offsets, not on a count. (The last message
 * before an end offset is never compacted away: it is in the active segment.)
 */
export async function readToEnd(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<RawMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high) - 1n);
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return [];
  const last = new Map<number, bigint>();
  return readUntil(
    kafka,
    topic,
    ({ partition, message }) => {
      const end = ends.get(partition);
      if (end === undefined || BigInt(message.offset) > end) return false;
      last.set(partition, BigInt(message.offset));
      return true;
    },
    () => [...ends].every(([p, end]) => last.get(p) === end),
    { timeoutMs, what: `the end offsets of ${topic}` },
  );
}
