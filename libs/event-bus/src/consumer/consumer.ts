import { type Meter, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type AnyEnvelope,
  type Catalog,
  catalog as platformCatalog,
  type TopicName,
  topicSpec,
} from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { Batch, Consumer, ConsumerConfig, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { headerNames, headerString } from '../headers.js';
import type { Serde } from '../serde/serde.js';
import { createTopicNames, type TopicNames } from '../topic-names.js';
import { parentContext } from '../tracing.js';
import { backoffDelay, defaultRetryPolicy, pause, type RetryPolicy } from './backoff.js';
import { sendToDeadLetter } from './dead-letter.js';
import { isOutage, isRetriableKafkaError, summarize } from './failure.js';
import type { EventHandler, EventHandlers, HandlerContext } from './handlers.js';
import { createLagGauge, type PartitionLag } from './lag.js';

export interface EventConsumerOptions {
  kafka: Kafka;
  /** The consumer group: the service's name, so replicas share the work. */
  groupId: string;
  serde: Serde;
  log: Logger;
  handlers: EventHandlers;
  /** Topics to read; by default those of the handled event types. */
  topics?: readonly TopicName[];
  catalog?: Catalog;
  names?: TopicNames;
  retry?: Partial<RetryPolicy>;
  /** Where a new group starts: the beginning (default), so a new service sees the history still kept. */
  fromBeginning?: boolean;
  meter?: Meter;
  consumer?: Omit<ConsumerConfig, 'groupId'>;
  now?: () => Date;
}

export interface ConsumerStats {
  handled: number;
  skipped: number;
  deadLettered: number;
  retried: number;
}

export interface EventConsumer {
  /** Joins the group and starts handling; resolves once the group has assigned partitions. */
  start(): Promise<void>;
  /** Finishes the message in hand, commits what is done, leaves the group. */
  stop(): Promise<void>;
  lag(): PartitionLag[];
  stats(): Readonly<ConsumerStats>;
}

const tracer = trace.getTracer('@qbo/event-bus');

/**
 * A consumer group member that hands each event of the catalog to its typed handler, one partition's
 * messages in order. A failing handler is retried with backoff while the partition waits (order is kept),
 * then the message goes to `<topic>.dlq` with the failure in headers and the partition moves on. Offsets are
 * committed only for messages whose handler finished.
 */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const {
    kafka,
    groupId,
    serde,
    handlers,
    catalog = platformCatalog,
    names = createTopicNames(),
    fromBeginning = true,
    now = () => new Date(),
  } = options;
  const log = options.log.child({ component: 'event-consumer', groupId });
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const handled = Object.keys(handlers).map((type) => {
    const def = catalog.latest(type);
    if (!def) throw new Error(`a handler is registered for ${type}, which is not in the event catalog`);
    return def;
  });
  const topics = [...new Set(options.topics ?? handled.map((d) => d.topic))];
  const meter = options.meter ?? metrics.getMeter('@qbo/event-bus');
  const lag = createLagGauge(meter, groupId);
  const deadLettered = meter.createCounter('qbo.events.dead_lettered', {
    description: 'Messages sent to a DLQ',
  });
  const stats: ConsumerStats = { handled: 0, skipped: 0, deadLettered: 0, retried: 0 };
  const stopping = new AbortController();

  // An idle fetch waits at most a second: stopping waits for the fetch in flight, and a stop should be quick.
  const consumer: Consumer = kafka.consumer({ maxWaitTimeInMs: 1_000, ...options.consumer, groupId });
  const dlqProducer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });

  async function handle(event: AnyEnvelope, message: KafkaMessage, ctx: HandlerContext): Promise<boolean> {
    const handler = handlers[event.type as keyof EventHandlers] as EventHandler<AnyEnvelope> | undefined;
    if (!handler) return false;
    const parent = parentContext(event.traceparent, headerString(message.headers, headerNames.traceparent));
    await tracer.startActiveSpan(
      `process ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': ctx.topic,
          'messaging.destination.partition.id': String(ctx.partition),
          'messaging.kafka.offset': Number(ctx.offset),
          'messaging.consumer.group.name': groupId,
          'messaging.message.id': event.id,
        },
      },
      parent,
      async (span) => {
        try {
          await handler(event, ctx);
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: summarize(err).code });
          throw err;
        } finally {
          span.end();
        }
      },
    );
    return true;
  }

  /** Runs one message to an outcome: handled, skipped or dead-lettered (true), or interrupted by stop (false). */
  async function process(
    batch: Batch,
    topic: TopicName,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    if (message.value === null && topicSpec(topic).cleanup === 'compact') {
      // A tombstone of a compacted topic removes its key; it is not an event, and no handler receives it.
      stats.skipped++;
      return true;
    }
    let firstFailedAt: Date | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const event = catalog.read(await serde.decode(message.value ?? Buffer.alloc(0))) as AnyEnvelope;
        const ctx: HandlerContext = {
          topic,
          partition: batch.partition,
          offset: message.offset,
          headers: message.headers ?? {},
          attempt,
          signal: stopping.signal,
        };
        if (await handle(event, message, ctx)) stats.handled++;
        else stats.skipped++;
        return true;
      } catch (err) {
        if (stopping.signal.aborted) return false;
        firstFailedAt ??= now();
        const failure = summarize(err);
        const where = {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          attempt,
          failure,
        };
        // The registry, the database or the cache being down says nothing about the message: wait it out
        // (the partition waits, in order) rather than dead-letter good events.
        const outage = isOutage(err);
        if (failure.retryable && (outage || attempt < policy.attempts)) {
          stats.retried++;
          log.warn({ ...where, err }, 'event handling failed; retrying');
          if (!(await pause(backoffDelay(policy, Math.min(attempt, 30)), heartbeat, stopping.signal)))
            return false;
          continue;
        }
        if (!topicSpec(topic).dlq) {
          log.error({ ...where, err }, 'event handling failed on a topic without a DLQ; skipped');
          return true;
        }
        await sendToDeadLetter(dlqProducer, {
          dlqTopic: names.dlq(topic),
          sourceTopic: batch.topic,
          partition: batch.partition,
          message,
          groupId,
          failure,
          attempts: attempt,
          firstFailedAt,
          failedAt: now(),
        });
        stats.deadLettered++;
        deadLettered.add(1, { 'messaging.destination.name': batch.topic, 'error.type': failure.code });
        log.error({ ...where, err }, 'message sent to the dead-letter topic');
        return true;
      }
    }
  }

  return {
    async start() {
      await dlqProducer.connect();
      await consumer.connect();
      const joined = new Promise<void>((resolve) => {
        const off = consumer.on(consumer.events.GROUP_JOIN, () => {
          off();
          resolve();
        });
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      });
      // A broker that restarts answers "does not host this topic-partition" until it has loaded its logs: a
      // retriable error, waited out here rather than rejected (which would stop the service).
      for (let attempt = 1; ; attempt++) {
        try {
          await consumer.subscribe({ topics: topics.map((t) => names.physical(t)), fromBeginning });
          break;
        } catch (err) {
          if (stopping.signal.aborted || !isRetriableKafkaError(err)) throw err;
          log.warn({ err, attempt }, 'subscribing failed; retrying');
          if (!(await pause(backoffDelay(policy, Math.min(attempt, 30)), async () => {}, stopping.signal)))
            throw err;
        }
      }
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const topic = names.logical(batch.topic);
          if (!topic) throw new Error(`subscribed to a topic outside the contract: ${batch.topic}`);
          const first = batch.firstOffset();
          if (first !== null)
            lag.record(batch.topic, batch.partition, batch.highWatermark, (BigInt(first) - 1n).toString());
          let lastDone: string | undefined;
          let lastBeat = Date.now();
          for (const message of batch.messages) {
            if (!isRunning() || isStale() || stopping.signal.aborted) break;
            if (!(await process(batch, topic, message, heartbeat))) break;
            resolveOffset(message.offset);
            lastDone = message.offset;
            // A batch of slow handlers can outlast the session timeout; a heartbeat a second is plenty.
            if (Date.now() - lastBeat > 1_000) {
              await heartbeat();
              lastBeat = Date.now();
            }
          }
          if (lastDone !== undefined) lag.record(batch.topic, batch.partition, batch.highWatermark, lastDone);
        },
      });
      await joined;
      log.info({ topics }, 'event consumer started');
    },
    async stop() {
      stopping.abort();
      await consumer.disconnect();
      await dlqProducer.disconnect();
      lag.close();
      log.info({ ...stats }, 'event consumer stopped');
    },
    lag: () => lag.snapshot(),
    stats: () => ({ ...stats }),
  };
}
