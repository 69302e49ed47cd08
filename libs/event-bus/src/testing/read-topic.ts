import { uniqueName, waitFor } from '@qbo/testkit';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface RawMessage {
  partition: number;
  message: KafkaMessage;
}

/** Reads a topic from the beginning with a throwaway group until `count` messages arrived; raw bytes, no decoding. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<RawMessage[]> {
  const seen: RawMessage[] = [];
  // A short fetch wait: disconnecting waits for the fetch in flight.
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.push({ partition, message });
      },
    });
    await waitFor(() => seen.length >= count, {
      timeoutMs,
      what: `${count} messages on ${topic} (saw ${seen.length})`,
    });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
