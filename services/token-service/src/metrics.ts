import { type Meter, metrics } from '@opentelemetry/api';

export interface TokenMetrics {
  /** One call to Intuit's token endpoint, by what came of it (`ok`, `transient`, `grant_rejected`, `app_rejected`). */
  intuitCall(outcome: string, ms: number): void;
  /** One call to Intuit's revoke endpoint, by outcome (`ok`, an HTTP status, `timeout`, `network`). */
  intuitRevoke(outcome: string): void;
  /** A scheduled refresh that threw instead of answering (e.g. a data key no key in the ring opens), by error. */
  scheduledRefreshError(error: string): void;
}

export function createTokenMetrics(meter: Meter = metrics.getMeter('token-service')): TokenMetrics {
  const calls = meter.createCounter('qbo.tokens.refresh.calls', {
    description: 'Refresh-token grants sent to Intuit, by outcome',
  });
  const duration = meter.createHistogram('qbo.tokens.refresh.duration', {
    description: "Intuit's token endpoint answer time",
    unit: 'ms',
  });
  const revokes = meter.createCounter('qbo.tokens.revoke.calls', {
    description: 'Revocations sent to Intuit, by outcome',
  });
  const scheduledErrors = meter.createCounter('qbo.tokens.scheduler.errors', {
    description: 'Scheduled refreshes that failed unexpectedly and were deferred, by error code',
  });
  return {
    intuitRevoke: (outcome) => revokes.add(1, { outcome }),
    scheduledRefreshError: (error) => scheduledErrors.add(1, { error }),
    intuitCall: (outcome, ms) => {
      calls.add(1, { outcome });
      duration.record(ms, { outcome });
    },
  };
}
