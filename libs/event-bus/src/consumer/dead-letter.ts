import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { dlqHeaderNames } from '../headers.js';
import type { FailureSummary } from './failure.js';

export interface DeadLetter {
  dlqTopic: string;
  sourceTopic: string;
  partition: number;
  message: KafkaMessage;
  groupId: string;
  failure: FailureSummary;
  attempts: number;
  firstFailedAt: Date;
  failedAt: Date;
}

/** The original key, value and headers, plus where it came from and why it failed. */
export async function sendToDeadLetter(producer: Producer, d: DeadLetter): Promise<void> {
  const headers: IHeaders = {
    ...d.message.headers,
    [dlqHeaderNames.originalTopic]: d.sourceTopic,
    [dlqHeaderNames.originalPartition]: String(d.partition),
    [dlqHeaderNames.originalOffset]: d.message.offset,
    [dlqHeaderNames.consumerGroup]: d.groupId,
    [dlqHeaderNames.errorType]: d.failure.type,
    [dlqHeaderNames.errorCode]: d.failure.code,
    [dlqHeaderNames.retryCount]: String(Math.max(0, d.attempts - 1)),
    [dlqHeaderNames.firstFailedAt]: d.firstFailedAt.toISOString(),
    [dlqHeaderNames.failedAt]: d.failedAt.toISOString(),
  };
  await producer.send({
    topic: d.dlqTopic,
    acks: -1,
    messages: [{ key: d.message.key, value: d.message.value, headers }],
  });
}
