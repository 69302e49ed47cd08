import type { Meter } from '@opentelemetry/api';

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Consumer lag per partition as an OpenTelemetry gauge (`messaging.kafka.consumer.lag`), measured from the
 * broker's high watermark (as of the batch's fetch) and the last offset the handlers finished.
 */
export function createLagGauge(meter: Meter, groupId: string) {
  const lags = new Map<string, PartitionLag>();
  const gauge = meter.createObservableGauge('messaging.kafka.consumer.lag', {
    description: 'Messages in the partition after the last one this consumer group finished',
    unit: '{message}',
  });
  const observe = (result: { observe(value: number, attributes: Record<string, string | number>): void }) => {
    for (const l of lags.values()) {
      result.observe(l.lag, {
        'messaging.destination.name': l.topic,
        'messaging.destination.partition.id': String(l.partition),
        'messaging.consumer.group.name': groupId,
      });
    }
  };
  gauge.addCallback(observe);
  return {
    /** `lastDone` is the offset of the last message finished (one before the batch when none is yet). */
    record(topic: string, partition: number, highWatermark: string, lastDone: string) {
      const lag = BigInt(highWatermark) - (BigInt(lastDone) + 1n);
      lags.set(`${topic}/${partition}`, { topic, partition, lag: Number(lag < 0n ? 0n : lag) });
    },
    snapshot: (): PartitionLag[] => [...lags.values()],
    close: () => gauge.removeCallback(observe),
  };
}
