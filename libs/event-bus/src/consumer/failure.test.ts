import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarize } from './failure.js';

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
