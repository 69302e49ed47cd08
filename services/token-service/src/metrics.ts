import { type Meter, metrics } from '@opentelemetry/api';

export interface TokenMetrics {
  /** One call to Intuit's token endpoint, by what came of it (`ok`, `transient`, `grant_rejected`, `app_rejected`). */
  intuitCall(outcome: string, ms: number): void;
  /** One call to Intuit's revoke endpoint, by outcome (`ok`, an HTTP status, `timeout`, `network`). */
  intuitRevoke(outcome: string): void;
  /** A scheduled refresh that threw instead of answering (e.g. a data key no key in the ring opens), by error. */
  scheduledRefreshError(error: string): void;
  /** The app's refresh pause: `paused` (invalid_client confirmed), `probe_failed`, `resumed`. An alert either way. */
  appPause(state: 'paused' | 'probe_failed' | 'resumed'): void;
  /** A security event refused because it disagrees with the stored connection (`org`, `realm`). */
  eventRefused(event: string, reason: string): void;
  /** A shred's revoke at Intuit: `deferred` (failed, retried later), `revoked` on a retry, `given_up`. */
  shredRevoke(outcome: 'deferred' | 'revoked' | 'given_up'): void;
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
  const pauses = meter.createCounter('qbo.tokens.app_pause.transitions', {
    description: "The app's refresh pause: paused, probe_failed, resumed (alert on any)",
  });
  const refused = meter.createCounter('qbo.tokens.events.refused', {
    description:
      'Security events refused because they disagree with the stored connection, by event and reason',
  });
  const shredRevokes = meter.createCounter('qbo.tokens.shred.revoke', {
    description: "A shred's revoke at Intuit: deferred (failed), revoked on a retry, given_up (alert)",
  });
  return {
    appPause: (state) => pauses.add(1, { state }),
    eventRefused: (event, reason) => refused.add(1, { event, reason }),
    shredRevoke: (outcome) => shredRevokes.add(1, { outcome }),
    intuitRevoke: (outcome) => revokes.add(1, { outcome }),
    scheduledRefreshError: (error) => scheduledErrors.add(1, { error }),
    intuitCall: (outcome, ms) => {
      calls.add(1, { outcome });
      duration.record(ms, { outcome });
    },
  };
}
