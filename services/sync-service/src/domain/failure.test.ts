import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categories } from '@qbo/qbo-client';
import { FAILURES, recordFailure, retryPlan, summarise } from './failure.js';

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

describe('the failure table', () => {
  it('files every code under a category of the client taxonomy (or internal) with a sentence to act on', () => {
    for (const [code, f] of Object.entries(FAILURES)) {
      assert.ok([...categories, 'internal'].includes(f.category), code);
      assert.match(f.remediation, /^[A-Z'].{30,}[.]$/, code);
    }
  });

  it("knows Intuit's record-level codes: invalid data, SystemFault, object not found, business validation", () => {
    assert.deepEqual(
      ['4002', '10000', '610', '6000'].map((c) => [recordFailure(c).category, recordFailure(c).retryable]),
      [
        ['validation', true],
        ['server', true],
        ['not_found', true],
        ['validation', true],
      ],
    );
    assert.match(recordFailure('4002').remediation, /correct the record in QuickBooks, then retry/);
  });

  it('reads zero-padded codes as Intuit sends them in throttles and 401s', () => {
    assert.equal(recordFailure('003200').category, 'auth');
  });

  it("gives an Intuit error the table's remediation while keeping the client's category", () => {
    const err = Object.assign(new Error('x'), { category: 'not_found', code: '610', retryable: false });
    const s = summarise(err);
    assert.deepEqual([s.category, s.code, s.remediation], ['not_found', '610', FAILURES['610']?.remediation]);
  });

  it('falls back to the client remediation for a code the table does not know', () => {
    const err = Object.assign(new Error('x'), {
      category: 'server',
      code: '503',
      retryable: true,
      remediation: 'QuickBooks failed to process the request; it is retried with backoff.',
    });
    assert.match(summarise(err).remediation ?? '', /retried with backoff/);
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
