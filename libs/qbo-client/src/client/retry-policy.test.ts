import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY, parseRetryAfter, retryDelay } from './retry-policy.js';

const half = () => 0.5;

describe('retry policy', () => {
  it('backs off exponentially with jitter for server failures, capped', () => {
    const delays = [1, 2, 3, 4].map((a) =>
      retryDelay('server', a, { ...DEFAULT_RETRY, maxAttempts: 9 }, undefined, half),
    );
    assert.deepEqual(delays, [750, 1_500, 3_000, 6_000]);
    assert.equal(
      retryDelay('network', 8, { ...DEFAULT_RETRY, maxAttempts: 9 }, undefined, () => 1),
      30_000,
    );
  });

  it('waits Intuit’s advised minute after a 429, with up to 10% jitter', () => {
    const low = retryDelay('rate_limit', 1, DEFAULT_RETRY, undefined, () => 0);
    const high = retryDelay('rate_limit', 1, DEFAULT_RETRY, undefined, () => 1);
    assert.equal(low, 60_000);
    assert.equal(high, 66_000);
  });

  it('honours a Retry-After header when one is sent', () => {
    assert.equal(retryDelay('rate_limit', 1, DEFAULT_RETRY, 5_000, half), 5_000);
    assert.equal(retryDelay('server', 1, DEFAULT_RETRY, 10_000_000, half), DEFAULT_RETRY.maxRetryAfterMs);
  });

  it('never retries validation, conflict, not found, permission or auth failures', () => {
    for (const category of ['validation', 'conflict', 'not_found', 'permission', 'auth'] as const) {
      assert.equal(retryDelay(category, 1, DEFAULT_RETRY, undefined, half), undefined, category);
    }
  });

  it('stops after the last attempt', () => {
    assert.equal(retryDelay('timeout', DEFAULT_RETRY.maxAttempts, DEFAULT_RETRY, undefined, half), undefined);
  });

  it('reads Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });
});
