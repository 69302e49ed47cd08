import type { EventOfType, EventType, TopicName } from '@qbo/events';
import type { IHeaders } from 'kafkajs';

export interface HandlerContext {
  topic: TopicName;
  partition: number;
  offset: string;
  headers: IHeaders;
  /** 1 on the first run for this message, higher on retries. */
  attempt: number;
  /** Aborts when the consumer stops; a long handler may give up and let the message be redelivered. */
  signal: AbortSignal;
}

/**
 * Handles one event. Resolve only once the effect is durable (committed): the offset is committed after it.
 * Throw to retry; an error with `retryable: false` goes to the DLQ at once.
 */
export type EventHandler<E> = (event: E, ctx: HandlerContext) => Promise<void>;

export type EventHandlers = { [T in EventType]?: EventHandler<EventOfType<T>> };
