import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOutage, summarize } from './failure.js';

describe('summarize', () => {
  it('keeps the error type and code and drops the message', () => {
    const err = Object.assign(new TypeError('token AB11-secret rejected'), { code: 'invalid_grant' });
    const summary = summarize(err);
    assert.deepEqual(summary, { type: 'TypeError', code: 'invalid_grant', retryable: true });
    assert.doesNotMatch(JSON.stringify(summary), /secret/);
  });

  it('replaces a code that is not a plain identifier', () => {
    assert.equal(summarize(Object.assign(new Error('x'), { code: 'Bearer abc def' })).code, 'unclassified');
  });

  it('treats an error marked not retryable as poison', () => {
    assert.equal(summarize(Object.assign(new Error('x'), { retryable: false })).retryable, false);
  });

  it('describes a thrown non-error', () => {
    assert.deepEqual(summarize('boom'), { type: 'Error', code: 'unclassified', retryable: true });
  });
});

describe('isOutage', () => {
  it('reads socket errors, Postgres connection SQLSTATEs, lost connections and a down registry as outages', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    for (const err of [
      coded('ECONNRESET'),
      coded('ECONNREFUSED'),
      coded('ETIMEDOUT'),
      coded('08006'),
      coded('57P01'),
      coded('registry_unavailable'),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection is closed.'),
      new Error('query failed', { cause: coded('ECONNRESET') }),
    ]) {
      assert.equal(isOutage(err), true, String((err as { code?: string }).code ?? err.message));
    }
  });

  it('leaves failures about the message, and unknown ones, to the retry budget and the DLQ', () => {
    for (const err of [
      new Error('boom'),
      Object.assign(new Error('x'), { code: '23505' }),
      Object.assign(new Error('x'), { code: 'store_down' }),
      'ECONNRESET',
      null,
    ]) {
      assert.equal(isOutage(err), false, String(err));
    }
  });
});
