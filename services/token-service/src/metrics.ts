import { type Meter, metrics } from '@opentelemetry/api';

export interface TokenMetrics {
  /** One call to Intuit's token endpoint, by what came of it (`ok`, `transient`, `grant_rejected`, `app_rejected`). */
  intuitCall(outcome: string, ms: number): void;
}

export function createTokenMetrics(meter: Meter = metrics.getMeter('token-service')): TokenMetrics {
  const calls = meter.createCounter('qbo.tokens.refresh.calls', {
    description: 'Refresh-token grants sent to Intuit, by outcome',
  });
  const duration = meter.createHistogram('qbo.tokens.refresh.duration', {
    description: "Intuit's token endpoint answer time",
    unit: 'ms',
  });
  return {
    intuitCall: (outcome, ms) => {
      calls.add(1, { outcome });
      duration.record(ms, { outcome });
    },
  };
}
