import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSingleFlight } from './single-flight.js';

describe('single flight', () => {
  it('shares one flight per key among concurrent callers, and starts a new one after it lands', async () => {
    const flight = createSingleFlight<string, number>();
    let started = 0;
    let land: (n: number) => void = () => undefined;
    const start = () => {
      started++;
      return new Promise<number>((r) => {
        land = r;
      });
    };
    const a = flight('c1', start);
    const b = flight('c1', start);
    assert.equal(started, 1);
    land(7);
    assert.deepEqual(await Promise.all([a, b]), [7, 7]);
    const c = flight('c1', start);
    assert.equal(started, 2);
    land(8);
    assert.equal(await c, 8);
  });

  it('keeps keys apart and lets a failed flight be retried', async () => {
    const flight = createSingleFlight<string, number>();
    await assert.rejects(
      flight('c1', () => Promise.reject(new Error('down'))),
      /down/,
    );
    assert.equal(await flight('c1', () => Promise.resolve(1)), 1);
    const [x, y] = await Promise.all([flight('c1', async () => 2), flight('c2', async () => 3)]);
    assert.deepEqual([x, y], [2, 3]);
  });
});
