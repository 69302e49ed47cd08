import type { EventFactory } from '@qbo/events';
import { phase, runPeriodically, type ServiceConfig, type ServiceDeps } from '@qbo/service-kit';
import type { EventBusConfig } from '../config.js';
import { createEventConsumer, type EventConsumer } from '../consumer/consumer.js';
import type { EventHandlers } from '../consumer/handlers.js';
import { createInbox, type Inbox } from '../inbox/inbox.js';
import { createOutbox, type Outbox } from '../outbox/outbox.js';
import { createEventProducer, type EventProducer } from '../producer.js';
import { provisionFromConfig } from '../provision.js';
import { createSerde } from '../serde/create-serde.js';
import type { Serde } from '../serde/serde.js';
import type { TopicNames } from '../topic-names.js';
import { createTracedEventFactory } from '../traced-event-factory.js';
import { consumerGroupId } from './group-id.js';
import { runConsumer, runOutboxRelay } from './run-in-service.js';

const HOUR_MS = 3_600_000;

export type ServiceBusDeps = Pick<
  ServiceDeps<ServiceConfig & EventBusConfig>,
  'name' | 'schema' | 'config' | 'log' | 'orm' | 'kafka' | 'admin' | 'onShutdown'
>;

export interface ConsumeOptions {
  /** A group id made earlier with `groupId` and kept with a projection's store (see `consumerGroupId`). */
  groupId?: string;
}

export interface ServiceBus {
  readonly names: TopicNames;
  readonly serde: Serde;
  /** Makes the service's events, with the active trace and the service as their source. */
  readonly events: EventFactory;
  /** The service's outbox; its relay starts with the first call and stops after the consumers. */
  outbox(): Outbox;
  /** A connected producer, for a service that publishes directly; disconnects after the consumers. */
  producer(): Promise<EventProducer>;
  /** The group a consumer of this service joins, by the one naming rule (`consumerGroupId`). */
  groupId(consumer: string, generation?: string): string;
  /**
   * Starts a consumer without holding up start-up and stops it first at shutdown (step `<consumer>-consumer`).
   * Given a function, the handlers get an inbox of their own (`exactlyOnce`), pruned hourly.
   */
  consume(
    consumer: string,
    handlers: EventHandlers | ((inbox: Inbox) => EventHandlers),
    options?: ConsumeOptions,
  ): EventConsumer;
}

/**
 * A service's whole Kafka wiring from one call in its `wire`: topics provisioned, the serde, the event
 * factory, the outbox and its relay, consumers named by one rule, and inbox pruning, each registered with
 * the service's shutdown in its phase.
 */
export async function createServiceBus(
  deps: ServiceBusDeps,
  { inboxPruneEveryMs = HOUR_MS }: { inboxPruneEveryMs?: number } = {},
): Promise<ServiceBus> {
  const { name, schema, config, log, orm, kafka, admin, onShutdown } = deps;
  const names = await provisionFromConfig(admin, config);
  const serde = createSerde({ registryUrl: config.SCHEMA_REGISTRY_URL });
  const events = createTracedEventFactory({ source: name });
  let outbox: Outbox | undefined;
  let producer: Promise<EventProducer> | undefined;
  const inboxes: Inbox[] = [];
  const groupId = (consumer: string, generation?: string) =>
    consumerGroupId({ prefix: config.KAFKA_TOPIC_PREFIX, service: name, consumer, generation });

  const prunes = () => {
    if (inboxes.length !== 1) return;
    // Ids only need to outlive any redelivery, i.e. the topic's retention.
    runPeriodically(deps, {
      name: 'inbox-prune',
      everyMs: inboxPruneEveryMs,
      run: async () => {
        const olderThan = new Date(Date.now() - 2 * config.KAFKA_TOPIC_RETENTION_MS);
        for (const inbox of inboxes) await inbox.prune(orm.em.fork(), olderThan);
      },
    });
  };

  return {
    names,
    serde,
    events,
    outbox() {
      if (!outbox) {
        // One message limit for the outbox's size check and the relay's requests: the topics' own.
        const maxMessageBytes = config.KAFKA_MAX_MESSAGE_BYTES;
        outbox = createOutbox({ schema, maxMessageBytes });
        runOutboxRelay(
          { connectionString: config.DATABASE_URL, schema, kafka, serde, log, names, maxMessageBytes },
          onShutdown,
        );
      }
      return outbox;
    },
    producer() {
      producer ??= (async () => {
        const p = createEventProducer({
          kafka,
          serde,
          log,
          names,
          maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
        });
        await p.connect();
        onShutdown({ name: 'producer', phase: phase.producers, run: () => p.disconnect() });
        return p;
      })();
      return producer;
    },
    groupId,
    consume(consumer, handlers, options = {}) {
      const group = options.groupId ?? groupId(consumer);
      let resolved: EventHandlers;
      if (typeof handlers === 'function') {
        const inbox = createInbox({ schema, group: consumer });
        inboxes.push(inbox);
        resolved = handlers(inbox);
      } else resolved = handlers;
      const started = createEventConsumer({ kafka, groupId: group, serde, log, names, handlers: resolved });
      runConsumer(started, `${consumer}-consumer`, onShutdown);
      if (typeof handlers === 'function') prunes();
      return started;
    },
  };
}
