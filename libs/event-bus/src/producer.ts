import {
  type AnyEnvelope,
  type Catalog,
  type CatalogEvent,
  keyFor,
  catalog as platformCatalog,
  validateForPublish,
} from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { IHeaders, Kafka, Message, Producer, ProducerConfig } from 'kafkajs';
import { headerNames } from './headers.js';
import type { Serde } from './serde/serde.js';
import { createTopicNames, type TopicNames } from './topic-names.js';

interface Routed {
  topic: string;
  message: Message;
}

import { currentTraceparent } from './tracing.js';

export interface EventProducerOptions {
  kafka: Kafka;
  serde: Serde;
  log: Logger;
  catalog?: Catalog;
  names?: TopicNames;
  /** Passed to kafkajs; idempotence, acks=all and one request in flight are always set. */
  producer?: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests'>;
}

export interface EventProducer {
  connect(): Promise<void>;
  /**
   * Validates, encodes and sends events, each to its topic keyed by its org, in the order given (one org's
   * events stay in order). Resolves when every broker acknowledged with acks=all; throws EventSchemaError
   * before sending anything if one event breaks its schema.
   */
  publish(events: CatalogEvent | readonly CatalogEvent[]): Promise<void>;
  /**
   * Sends events that were validated and serialised earlier (outbox rows), in the order given, without
   * validating them again.
   */
  publishValidated(events: readonly ValidatedEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** An event as an outbox row holds it: validated when written, its JSON kept as written. */
export interface ValidatedEvent {
  id: string;
  type: string;
  version: number;
  key: string;
  traceparent?: string | null;
  tracestate?: string | null;
  json: string;
}

export function createEventProducer({
  kafka,
  serde,
  log,
  catalog = platformCatalog,
  names = createTopicNames(),
  producer: config = {},
}: EventProducerOptions): EventProducer {
  // One request in flight: with retries, the idempotent producer then cannot reorder a partition's batches.
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    ...config,
    idempotent: true,
    maxInFlightRequests: 1,
  });

  function headersOf(e: {
    traceparent?: string | null | undefined;
    tracestate?: string | null | undefined;
  }): IHeaders | undefined {
    const traceparent = e.traceparent ?? currentTraceparent();
    if (!traceparent) return undefined;
    return {
      [headerNames.traceparent]: traceparent,
      ...(e.tracestate ? { [headerNames.tracestate]: e.tracestate } : {}),
    };
  }

  const definitionOf = (type: string, version: number) => {
    const def = catalog.find(type, version);
    if (!def) throw new Error(`${type} v${version} is not in the event catalog`);
    return def;
  };

  async function toMessage(event: AnyEnvelope): Promise<Routed> {
    const def = definitionOf(event.type, event.version);
    const valid = validateForPublish(def, event) as AnyEnvelope;
    const topic = names.physical(def.topic);
    const headers = headersOf(valid);
    const value = await serde.encode(def, valid, topic);
    return {
      topic,
      message: headers
        ? { key: keyFor(def.topic, valid), value, headers }
        : { key: keyFor(def.topic, valid), value },
    };
  }

  async function validatedMessage(event: ValidatedEvent): Promise<Routed> {
    const def = definitionOf(event.type, event.version);
    const topic = names.physical(def.topic);
    const headers = headersOf(event);
    const value = await serde.encodeValidated(def, event.json, topic);
    return { topic, message: headers ? { key: event.key, value, headers } : { key: event.key, value } };
  }

  async function send(messages: readonly Routed[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of messages) {
      const list = byTopic.get(topic);
      if (list) list.push(message);
      else byTopic.set(topic, [message]);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
    });
    log.debug({ count: messages.length, topics: [...byTopic.keys()] }, 'events published');
  }

  return {
    connect: () => producer.connect(),
    async publish(input) {
      const events = (Array.isArray(input) ? input : [input]) as readonly AnyEnvelope[];
      await send(await Promise.all(events.map(toMessage)));
    },
    async publishValidated(events) {
      await send(await Promise.all(events.map(validatedMessage)));
    },
    disconnect: () => producer.disconnect(),
  };
}
