import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it, mock } from 'node:test';
import { createLogger } from './logger.js';
import { runPeriodically } from './periodic.js';
import type { ShutdownStep } from './shutdown.js';

const lines: Record<string, unknown>[] = [];
const log = createLogger({
  service: 'test',
  destination: new Writable({
    write: (chunk, _e, done) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  }),
});

describe('runPeriodically', () => {
  it('runs every interval, survives a failed run and stops with its shutdown step', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const steps: ShutdownStep[] = [];
      let runs = 0;
      runPeriodically(
        { log, onShutdown: (s) => steps.push(s) },
        {
          name: 'state-prune',
          everyMs: 1_000,
          run: async () => {
            runs++;
            if (runs === 1) throw new Error('database away');
          },
        },
      );
      assert.equal(runs, 0, 'nothing runs at start-up');
      mock.timers.tick(1_000);
      await new Promise((r) => setImmediate(r));
      mock.timers.tick(1_000);
      await new Promise((r) => setImmediate(r));
      assert.equal(runs, 2, 'the run after a failure still happens');
      assert.equal(steps.length, 1);
      assert.equal(steps[0]?.name, 'state-prune');
      await steps[0]?.run();
      mock.timers.tick(5_000);
      assert.equal(runs, 2, 'no run after the stop');
      assert.ok(lines.some((l) => l.msg === 'periodic job failed' && l.job === 'state-prune'));
    } finally {
      mock.timers.reset();
    }
  });

  it('does not start a run while the previous one is still going', async () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let started = 0;
      let finish: () => void = () => undefined;
      runPeriodically(
        { log, onShutdown: () => undefined },
        {
          name: 'slow',
          everyMs: 10,
          run: () => {
            started++;
            return new Promise<void>((r) => {
              finish = r;
            });
          },
        },
      );
      mock.timers.tick(10);
      mock.timers.tick(10);
      mock.timers.tick(10);
      assert.equal(started, 1);
      finish();
      await new Promise((r) => setImmediate(r));
      mock.timers.tick(10);
      assert.equal(started, 2);
    } finally {
      mock.timers.reset();
    }
  });
});
