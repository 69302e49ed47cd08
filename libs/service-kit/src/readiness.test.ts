import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReadiness, withSignal } from './readiness.js';

describe('readiness', () => {
  it('is ok only when every check passes, and names the failing one without details', async () => {
    const readiness = createReadiness({
      checks: {
        database: async () => undefined,
        kafka: async () => {
          throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:9092'), { code: 'ECONNREFUSED' });
        },
      },
      timeoutMs: 100,
    });
    const report = await readiness.report();
    assert.deepEqual(report, {
      status: 'failing',
      checks: { database: { status: 'ok' }, kafka: { status: 'failing', reason: 'ECONNREFUSED' } },
    });
  });

  it('reports a hung check as timed out', async () => {
    const readiness = createReadiness({
      checks: { slow: (signal) => withSignal(signal, new Promise(() => undefined)) },
      timeoutMs: 20,
    });
    const report = await readiness.report();
    assert.deepEqual(report.checks.slow, { status: 'failing', reason: 'timed out' });
  });

  it('caches results briefly and says stopping once shutdown begins', async () => {
    let calls = 0;
    let now = 0;
    const readiness = createReadiness({
      checks: { db: async () => void calls++ },
      timeoutMs: 100,
      cacheMs: 1_000,
      now: () => now,
    });
    await readiness.report();
    await readiness.report();
    assert.equal(calls, 1);
    now = 1_000;
    await readiness.report();
    assert.equal(calls, 2);
    readiness.markStopping();
    assert.equal((await readiness.report()).status, 'stopping');
  });
});
