import {
  type AnyEnvelope,
  type Catalog,
  type CatalogEvent,
  DEFAULT_MAX_MESSAGE_BYTES,
  keyFor,
  catalog as platformCatalog,
  type TopicName,
  validateForPublish,
} from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { IHeaders, Kafka, Message, Producer, ProducerConfig } from 'kafkajs';
import { feedHeaders } from './feed-headers.js';
import { headerNames } from './headers.js';
import { messageBytes } from './message-size.js';
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
  /**
   * The topics' `max.message.bytes`: a request holds at most this many bytes of messages, so no partition's
   * batch can exceed it however large the events in a batch are.
   */
  maxMessageBytes?: number;
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
   * validating them again. A row without JSON is a tombstone: its key with a null value.
   */
  publishValidated(events: readonly ValidatedEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** An event as an outbox row holds it: validated when written, its JSON and headers kept as written. */
export interface ValidatedEvent {
  id: string;
  /** The contract topic; needed for a tombstone, which has no type. */
  topic?: string;
  type: string | null;
  version: number | null;
  key: string;
  traceparent?: string | null;
  tracestate?: string | null;
  /** Headers computed when the event was written (the feed's CloudEvents attributes). */
  headers?: Record<string, string> | null;
  /** Null for a tombstone. */
  json: string | null;
}

export function createEventProducer({
  kafka,
  serde,
  log,
  catalog = platformCatalog,
  names = createTopicNames(),
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
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
    headers?: Record<string, string> | null | undefined;
  }): IHeaders | undefined {
    const traceparent = e.traceparent ?? currentTraceparent();
    if (!traceparent) return e.headers ?? undefined;
    return {
      ...e.headers,
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
    const headers = headersOf({ ...valid, headers: feedHeaders(valid, def.topic) });
    const value = await serde.encode(def, valid, topic);
    return {
      topic,
      message: headers
        ? { key: keyFor(def.topic, valid), value, headers }
        : { key: keyFor(def.topic, valid), value },
    };
  }

  async function validatedMessage(event: ValidatedEvent): Promise<Routed> {
    const headers = headersOf(event);
    if (event.json === null || event.type === null || event.version === null) {
      // A tombstone: no value (not even an empty one), so compaction removes the key.
      if (!event.topic) throw new Error(`outbox row ${event.id} has neither an event nor a topic`);
      const topic = names.physical(event.topic as TopicName);
      return { topic, message: { key: event.key, value: null, ...(headers ? { headers } : {}) } };
    }
    const def = definitionOf(event.type, event.version);
    const topic = names.physical(def.topic);
    const value = await serde.encodeValidated(def, event.json, topic);
    return { topic, message: headers ? { key: event.key, value, headers } : { key: event.key, value } };
  }

  /**
   * Consecutive runs of messages whose sizes add up to at most the message limit: kafkajs puts all of a
   * request's messages for one partition into one batch, which the broker refuses above `max.message.bytes`.
   */
  function requests(messages: readonly Routed[]): Routed[][] {
    const runs: Routed[][] = [];
    let run: Routed[] = [];
    let bytes = 0;
    for (const m of messages) {
      const size = messageBytes(m.message);
      if (run.length > 0 && bytes + size > maxMessageBytes) {
        runs.push(run);
        run = [];
        bytes = 0;
      }
      run.push(m);
      bytes += size;
    }
    if (run.length > 0) runs.push(run);
    return runs;
  }

  async function sendRequest(messages: readonly Routed[]): Promise<void> {
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

  async function send(messages: readonly Routed[]): Promise<void> {
    // One after the other, so order holds across requests as within one.
    for (const run of requests(messages)) await sendRequest(run);
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
