import { phase, type ShutdownStep } from '@qbo/service-kit';
import type { EventConsumer } from '../consumer/consumer.js';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../outbox/relay.js';

type OnShutdown = (step: ShutdownStep) => void;

/**
 * Starts a service's consumer without holding up its start-up (joining a group can take a session timeout,
 * and nothing the service serves waits for it), and registers its stop with the consumers. A stop before the
 * join settled would leave the join running, so the stop lets it settle first, bounded by the shutdown
 * deadline. A failure to join rejects unhandled, which stops the process.
 */
export function runConsumer(consumer: EventConsumer, name: string, onShutdown: OnShutdown): void {
  const started = consumer.start();
  onShutdown({
    name,
    phase: phase.consumers,
    run: async () => {
      await started.catch(() => undefined);
      await consumer.stop();
    },
  });
}

/** Starts a service's outbox relay and registers its stop with the producers (after the consumers). */
export function runOutboxRelay(options: OutboxRelayOptions, onShutdown: OnShutdown): OutboxRelay {
  const relay = createOutboxRelay(options);
  relay.start();
  onShutdown({ name: 'outbox-relay', phase: phase.producers, run: () => relay.stop() });
  return relay;
}
