import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryPlan, summarise } from './failure.js';

const backoff = { baseMs: 1_000, maxMs: 60_000 };

describe('summarise', () => {
  it('keeps a QuickBooks error by category and code, never its message', () => {
    const err = Object.assign(new Error('Token AB12 rejected'), {
      category: 'rate_limit',
      code: '3001',
      retryable: true,
    });
    const s = summarise(err);
    assert.deepEqual([s.category, s.code, s.retryable], ['rate_limit', '3001', true]);
    assert.ok(!JSON.stringify(s).includes('AB12'));
  });

  it('gives our own codes their category and a remediation', () => {
    const s = summarise(Object.assign(new Error('x'), { code: 'connection_stopped' }));
    assert.equal(s.category, 'auth');
    assert.match(s.remediation ?? '', /reconnect/);
  });

  it('files anything else as an internal error', () => {
    assert.deepEqual(summarise(new TypeError('boom')), {
      category: 'internal',
      code: 'internal_error',
      retryable: true,
    });
  });
});

describe('retryPlan', () => {
  it('waits for a reconnect after an auth failure: no retry by the schedule', () => {
    assert.deepEqual(retryPlan({ category: 'auth', code: 'x', retryable: false }, 0, backoff), {
      willRetry: false,
      delayMs: Number.POSITIVE_INFINITY,
    });
  });

  it('backs off exponentially up to the maximum, a throttle for at least a minute', () => {
    const server = { category: 'server' as const, code: '500', retryable: true };
    assert.equal(retryPlan(server, 0, backoff).delayMs, 1_000);
    assert.equal(retryPlan(server, 3, backoff).delayMs, 8_000);
    assert.equal(retryPlan(server, 30, backoff).delayMs, 60_000);
    assert.equal(retryPlan({ ...server, category: 'rate_limit' }, 0, backoff).delayMs, 60_000);
  });
});
