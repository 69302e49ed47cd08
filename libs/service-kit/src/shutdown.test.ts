import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';
import { createShutdown, phase } from './shutdown.js';

const silent = () =>
  createLogger({
    service: 'test',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });

describe('shutdown', () => {
  it('runs steps by phase, in the order added within a phase, once', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const shutdown = createShutdown({ log: silent(), timeoutMs: 1_000, exit: (c) => codes.push(c) });
    shutdown.add({ name: 'telemetry', phase: phase.telemetry, run: () => void order.push('telemetry') });
    shutdown.add({ name: 'db', phase: phase.connections, run: () => void order.push('db') });
    shutdown.add({ name: 'kafka', phase: phase.connections, run: () => void order.push('kafka') });
    shutdown.add({ name: 'http', phase: phase.ingress, run: () => void order.push('http') });
    await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    assert.deepEqual(order, ['http', 'db', 'kafka', 'telemetry']);
    assert.deepEqual(codes, [0]);
  });

  it('keeps going after a failing step and exits 1', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const shutdown = createShutdown({ log: silent(), timeoutMs: 1_000, exit: (c) => codes.push(c) });
    shutdown.add({
      name: 'broken',
      phase: phase.ingress,
      run: () => {
        throw new Error('boom');
      },
    });
    shutdown.add({ name: 'db', phase: phase.connections, run: () => void order.push('db') });
    await shutdown.run('SIGTERM');
    assert.deepEqual(order, ['db']);
    assert.deepEqual(codes, [1]);
  });

  it('exits 1 when a step outlives the deadline', async () => {
    const codes: number[] = [];
    const shutdown = createShutdown({ log: silent(), timeoutMs: 50, exit: (c) => codes.push(c) });
    shutdown.add({
      name: 'stuck',
      phase: phase.consumers,
      run: () => new Promise((r) => setTimeout(r, 200)),
    });
    await shutdown.run('SIGTERM');
    assert.equal(codes[0], 1, 'the deadline fired first');
  });
});
