import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, pause } from './backoff.js';

const policy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling with each failed attempt, between half and all of it', () => {
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(policy, 1, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 1),
      400,
    );
  });

  it('never exceeds the maximum delay', () => {
    assert.equal(
      backoffDelay(policy, 30, () => 1),
      1_000,
    );
  });
});

describe('pause', () => {
  it('heartbeats while it waits', async () => {
    let beats = 0;
    const done = await pause(60, async () => void beats++, new AbortController().signal, 20);
    assert.equal(done, true);
    assert.ok(beats >= 2, `beat ${beats} times`);
  });

  it('returns false at once when the consumer stops', async () => {
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 10);
    assert.equal(await pause(10_000, async () => undefined, stop.signal), false);
    assert.ok(Date.now() - started < 5_000);
  });
});
