import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuditSampler } from './audit-sampling.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s));

describe('sampling refused connect attempts', () => {
  const sampler = () => createAuditSampler<{ reason: string }>({ perWindow: 3, keyOf: (k) => k.reason });

  it('writes the first few of a kind one by one and counts the rest into one summary', () => {
    const s = sampler();
    const admitted = Array.from({ length: 200 }, (_, i) => s.admit({ reason: 'state_unknown' }, at(i % 60)));
    assert.equal(admitted.filter(Boolean).length, 3);
    assert.deepEqual(admitted.slice(0, 4), [true, true, true, false]);
    const [summary, ...rest] = s.drain();
    assert.equal(rest.length, 0);
    assert.equal(summary?.count, 197, 'every refusal is counted');
    assert.deepEqual(summary?.first, at(3));
  });

  it('keeps kinds apart', () => {
    const s = sampler();
    for (let i = 0; i < 4; i++) assert.equal(s.admit({ reason: 'cookie_mismatch' }, at(i)), i < 3);
    assert.equal(s.admit({ reason: 'state_expired' }, at(5)), true);
    assert.deepEqual(
      s.drain().map((x) => [x.kind.reason, x.count]),
      [['cookie_mismatch', 1]],
    );
  });

  it('starts every window afresh and summarises nothing for a window within the sample', () => {
    const s = sampler();
    for (let i = 0; i < 5; i++) s.admit({ reason: 'state_unknown' }, at(i));
    s.drain();
    assert.equal(s.admit({ reason: 'state_unknown' }, at(10)), true);
    assert.deepEqual(s.drain(), []);
  });
});
