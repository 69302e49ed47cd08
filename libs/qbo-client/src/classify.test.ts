import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoriseItemFault, transportFailure } from './classify.js';

describe('transport failures', () => {
  it('files our own timeout under timeout', () => {
    assert.deepEqual(
      transportFailure(new DOMException('timed out', 'TimeoutError'), true).category,
      'timeout',
    );
  });

  it('files a reset connection under network, naming its code only', () => {
    const err = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed 127.0.0.1:4010'), { code: 'UND_ERR_SOCKET' }),
    });
    const failure = transportFailure(err, false);
    assert.deepEqual(failure, {
      category: 'network',
      code: 'UND_ERR_SOCKET',
      message: 'QuickBooks could not be reached (UND_ERR_SOCKET)',
    });
  });

  it('files a connect timeout under timeout', () => {
    const err = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    assert.equal(transportFailure(err, false).category, 'timeout');
  });
});

describe('batch item faults', () => {
  it('files items by their fault type and code', () => {
    assert.equal(categoriseItemFault({ type: 'SystemFault', code: '10000' }), 'server');
    assert.equal(categoriseItemFault({ type: 'ValidationFault', code: '6240' }), 'validation');
    assert.equal(categoriseItemFault({ type: 'ValidationFault', code: '610' }), 'not_found');
    assert.equal(categoriseItemFault({ type: 'AuthorizationFault', code: '3100' }), 'permission');
  });
});
