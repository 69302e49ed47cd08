import type { EventProducer } from '@qbo/event-bus';
import type { CatalogEvent } from '@qbo/events';
import { createBatcher } from './batcher.js';

/**
 * Resolves once Kafka acknowledged every event (acks=all). `expiresAt` (epoch ms): the caller gives up then,
 * and events still queued are not sent.
 */
export type Publish = (events: readonly CatalogEvent[], expiresAt?: number) => Promise<void>;

/**
 * Whether Kafka refused a message as larger than it accepts (the broker's MESSAGE_TOO_LARGE, however kafkajs
 * wrapped it, or the bus's own check): a retry would be refused alike.
 */
export function isMessageTooLarge(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { type, code, cause } = e as { type?: unknown; code?: unknown; cause?: unknown };
    if (type === 'MESSAGE_TOO_LARGE' || code === 'event_too_large') return true;
    e = cause;
  }
  return false;
}

/**
 * Concurrent deliveries share one Kafka request (the producer keeps one in flight, for ordering). A request
 * refused for one delivery's too large message is sent again one delivery at a time, so the others still go
 * through (those of its deliveries already written may then be written twice: at least once).
 */
export function createBatchedPublish(producer: Pick<EventProducer, 'publish'>): Publish {
  const publishBatch = createBatcher<readonly CatalogEvent[], unknown>({
    maxItems: 500,
    run: async (batches) => {
      try {
        await producer.publish(batches.flat());
        return batches.map(() => undefined);
      } catch (err) {
        if (batches.length === 1 || !isMessageTooLarge(err)) throw err;
        const failures: unknown[] = [];
        for (const batch of batches)
          failures.push(
            await producer.publish(batch).then(
              () => undefined,
              (e: unknown) => e ?? err,
            ),
          );
        return failures;
      }
    },
  });
  return async (batch, expiresAt) => {
    const failure = await publishBatch(batch, expiresAt);
    if (failure !== undefined) throw failure;
  };
}
