import type { IHeaders } from 'kafkajs';

/**
 * Headers an event message carries: the W3C trace context, when there is one. Everything else is in the
 * envelope; kafkajs encodes each header separately, and three more per message cost a third of a
 * producer's throughput.
 */
export const headerNames = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** Headers a dead-lettered message gains. An error is named by type and code, never by message. */
export const dlqHeaderNames = {
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  consumerGroup: 'x-consumer-group',
  errorType: 'x-error-type',
  errorCode: 'x-error-code',
  retryCount: 'x-retry-count',
  firstFailedAt: 'x-first-failed-at',
  failedAt: 'x-failed-at',
} as const;

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
