import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRunDelay } from './next-run.js';

const MIN = 60_000;
const onTime = { intervalMs: 15 * MIN, scheduleAt: 1_000_000, scheduleDue: true, startedAt: 1_000_500 };

describe('nextRunDelay', () => {
  it('keeps an on-time company one interval away, within ±10 %', () => {
    assert.equal(nextRunDelay({ ...onTime, random: () => 0 }), 0.9 * 15 * MIN);
    assert.equal(
      nextRunDelay({ ...onTime, random: () => 0.999999 }),
      Math.round(1.1 * 15 * MIN - 0.2 * 15 * MIN * 1e-6),
    );
  });

  it('spreads a company whose scheduled run started late over the whole interval', () => {
    const late = { ...onTime, startedAt: onTime.scheduleAt + 10 * MIN };
    const delays = [0, 0.25, 0.5, 0.75, 0.999].map((r) => nextRunDelay({ ...late, random: () => r }));
    assert.equal(delays[0], 0.1 * 15 * MIN, 'never sooner than a tenth of an interval');
    assert.ok((delays.at(-1) as number) <= 1.1 * 15 * MIN, 'never later than the on-time ceiling');
    assert.ok(
      (delays.at(-1) as number) - (delays[0] as number) > 0.9 * 15 * MIN,
      'the full interval is used',
    );
  });

  it('treats a delay within half an interval, or within the floor for short intervals, as on time', () => {
    const slightly = { ...onTime, startedAt: onTime.scheduleAt + 7 * MIN, random: () => 0 };
    assert.equal(nextRunDelay(slightly), 0.9 * 15 * MIN);
    const short = { intervalMs: 2_000, scheduleAt: 0, scheduleDue: true, startedAt: 20_000, random: () => 0 };
    assert.equal(nextRunDelay(short), 1_800, 'late by 20 s on a 2 s interval is under the 30 s floor');
    assert.equal(nextRunDelay({ ...short, startedAt: 40_000 }), 200);
  });

  it('does not count a run asked for early (a webhook, a command) as late', () => {
    const asked = { ...onTime, scheduleDue: false, startedAt: onTime.scheduleAt + 60 * MIN, random: () => 0 };
    assert.equal(nextRunDelay(asked), 0.9 * 15 * MIN);
  });
});
