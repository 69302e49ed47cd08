import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from './rate-limiter.js';

const admitMany = (limiter: RateLimiter, n: number, at: (i: number) => number) => {
  for (let i = 0; i < n; i++) {
    const a = limiter.admit('r1', 'app', false, at(i));
    assert.ok(a.ok, `request ${i + 1} was throttled`);
    a.release();
  }
};

test('throttles the 501st request in a minute for a realm', () => {
  const limiter = new RateLimiter();
  admitMany(limiter, 500, (i) => Math.floor(i / 10) * 1000);
  assert.deepEqual(limiter.admit('r1', 'app', false, 50_000), { ok: false, reason: 'per-minute' });
});

test('admits again once the oldest requests leave the minute', () => {
  const limiter = new RateLimiter();
  admitMany(limiter, 500, (i) => Math.floor(i / 10) * 1000);
  assert.ok(limiter.admit('r1', 'app', false, 60_001).ok);
});

test('throttles the 11th request in a second for a realm and app', () => {
  const limiter = new RateLimiter();
  admitMany(limiter, 10, () => 5_000);
  assert.deepEqual(limiter.admit('r1', 'app', false, 5_999), { ok: false, reason: 'per-second' });
  assert.ok(limiter.admit('r1', 'other-app', false, 5_999).ok);
});

test('throttles the 11th concurrent request and admits after one finishes', () => {
  const limiter = new RateLimiter();
  const held = Array.from({ length: 10 }, (_, i) => limiter.admit('r1', 'app', false, i * 1000));
  assert.deepEqual(limiter.admit('r1', 'app', false, 10_000), { ok: false, reason: 'concurrent' });
  const first = held[0];
  assert.ok(first?.ok);
  first.release();
  assert.ok(limiter.admit('r1', 'app', false, 10_000).ok);
});

test('throttles the 41st batch request in a minute for a realm and app', () => {
  const limiter = new RateLimiter();
  for (let i = 0; i < 40; i++) {
    const a = limiter.admit('r1', 'app', true, i * 1000);
    assert.ok(a.ok);
    a.release();
  }
  assert.deepEqual(limiter.admit('r1', 'app', true, 40_000), { ok: false, reason: 'batch-per-minute-app' });
});

test('admits everything when limits are disabled', () => {
  const limiter = new RateLimiter({ ...new RateLimiter().policy, enabled: false });
  admitMany(limiter, 2000, () => 0);
});
