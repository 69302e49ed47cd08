import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunFacts, runView } from './run-view.js';

const aRun = (over: Partial<RunFacts> = {}): RunFacts => ({
  run_id: '0b6f8f8e-8f0e-4a53-9d55-0c2b1d7f1a11',
  org_id: 'org-1',
  realm_id: '4620816365',
  connection_id: '7d0c3a52-2c55-4f8e-9a0e-3e1b2f6d9c01',
  trigger: 'connection',
  mode: 'initial',
  entities: ['Customer'],
  status: 'running',
  generation: 1,
  pages: 3,
  upserted: 2_500,
  deleted: 0,
  unchanged: 500,
  api_calls: 4,
  estimate_total: 4_000,
  error: null,
  started_at: new Date('2026-12-03T14:00:00.000Z'),
  finished_at: null,
  ...over,
});

describe('run view', () => {
  it("counts a running load's progress against its estimate and its age as its duration", () => {
    const v = runView(aRun(), new Date('2026-12-03T14:00:30.000Z'));
    assert.deepEqual(v.progress, { pages: 3, records: 3_000, estimate: 4_000, percent: 75 });
    assert.equal(v.durationMs, 30_000);
    assert.equal(v.finishedAt, null);
  });

  it('caps progress at 100 % when records created during the load pass the estimate', () => {
    assert.equal(runView(aRun({ upserted: 4_100, unchanged: 0 }), new Date()).progress.percent, 100);
  });

  it('has no percentage without an estimate (deltas)', () => {
    assert.equal(runView(aRun({ mode: 'cdc', estimate_total: null }), new Date()).progress.percent, null);
  });

  it("takes a finished run's duration from its end, and shows a failure by category and code only", () => {
    const v = runView(
      aRun({
        status: 'failed',
        finished_at: new Date('2026-12-03T14:00:05.000Z'),
        error: {
          category: 'auth',
          code: 'invalid_grant',
          message: 'upstream said Bearer abc',
        } as RunFacts['error'],
      }),
      new Date('2026-12-03T15:00:00.000Z'),
    );
    assert.equal(v.durationMs, 5_000);
    assert.deepEqual(v.error, { category: 'auth', code: 'invalid_grant' });
  });
});
