import { type Meter, metrics } from '@opentelemetry/api';

export type RejectReason =
  | 'missing_signature'
  | 'bad_signature'
  | 'not_configured'
  | 'too_large'
  | 'too_large_to_publish'
  | 'slow_upload'
  | 'unparsable'
  | 'kafka_unavailable';

export interface WebhookMetrics {
  received(): void;
  verified(): void;
  rejected(reason: RejectReason): void;
  changes(outcome: 'routed' | 'parked' | 'duplicate' | 'kept', count: number): void;
  publishLatency(ms: number): void;
}

export function createWebhookMetrics(meter: Meter = metrics.getMeter('webhook-ingest')): WebhookMetrics {
  const received = meter.createCounter('qbo.webhooks.received', { description: 'Deliveries received' });
  const verified = meter.createCounter('qbo.webhooks.verified', {
    description: 'Deliveries with a valid signature',
  });
  const rejected = meter.createCounter('qbo.webhooks.rejected', {
    description: 'Deliveries refused, by reason',
  });
  const changes = meter.createCounter('qbo.webhooks.changes', { description: 'Entity changes, by outcome' });
  const latency = meter.createHistogram('qbo.webhooks.publish.duration', {
    description: 'From verified body to Kafka acknowledgement',
    unit: 'ms',
  });
  return {
    received: () => received.add(1),
    verified: () => verified.add(1),
    rejected: (reason) => rejected.add(1, { reason }),
    changes: (outcome, count) => {
      if (count > 0) changes.add(count, { outcome });
    },
    publishLatency: (ms) => latency.record(ms),
  };
}
