import type { EventProducer } from '@qbo/event-bus';
import type { CatalogEvent } from '@qbo/events';
import { createBatcher } from './batcher.js';

/**
 * Resolves once Kafka acknowledged every event (acks=all). `expiresAt` (epoch ms): the caller gives up then,
 * and events still queued are not sent.
 */
export type Publish = (events: readonly CatalogEvent[], expiresAt?: number) => Promise<void>;

/** Concurrent deliveries share one Kafka request (the producer keeps one in flight, for ordering). */
export function createBatchedPublish(producer: Pick<EventProducer, 'publish'>): Publish {
  const publishBatch = createBatcher<readonly CatalogEvent[], void>({
    maxItems: 500,
    run: async (batches) => {
      await producer.publish(batches.flat());
      return batches.map(() => undefined);
    },
  });
  return (batch, expiresAt) => publishBatch(batch, expiresAt);
}
