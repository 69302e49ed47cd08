import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchResults, cdcResult, queryPage } from './responses.js';

describe('responses', () => {
  it('reads an empty query answer as no rows', () => {
    assert.deepEqual(queryPage('Customer', { QueryResponse: {} }), {
      entity: 'Customer',
      rows: [],
      startPosition: 1,
      maxResults: 0,
    });
  });

  it('marks a CDC answer that Intuit cut at 1000 objects', () => {
    const cut = cdcResult({
      CDCResponse: [
        { QueryResponse: [{ Customer: [{ Id: '1' }], startPosition: 1, maxResults: 1, totalCount: 1500 }] },
      ],
    });
    assert.equal(cut.truncated, true);
    const whole = cdcResult({
      CDCResponse: [
        {
          QueryResponse: [
            { Customer: [{ Id: '1' }], maxResults: 1 },
            { Invoice: [{ Id: '9', status: 'Deleted' }] },
          ],
        },
      ],
    });
    assert.deepEqual(whole, {
      changes: { Customer: [{ Id: '1' }], Invoice: [{ Id: '9', status: 'Deleted' }] },
      truncated: false,
    });
    assert.deepEqual(cdcResult({ CDCResponse: [{ QueryResponse: [{}] }] }), {
      changes: {},
      truncated: false,
    });
  });

  it("gives a batch's query items the batch's time, since their QueryResponse has none", () => {
    const [count] = batchResults(
      {
        BatchItemResponse: [{ bId: 'n', QueryResponse: { totalCount: 42 } }],
        time: '2026-03-01T04:00:00.123-08:00',
      },
      [{ bId: 'n', entity: 'Customer', entityId: undefined }],
      1,
      null,
    );
    assert.ok(count?.ok && 'query' in count);
    assert.equal(count.query.totalCount, 42);
    assert.equal(count.query.time, '2026-03-01T04:00:00.123-08:00');
  });

  it('turns each faulted batch item into an error naming its entity', () => {
    const [ok, failed, missing] = batchResults(
      {
        BatchItemResponse: [
          { bId: 'a', Customer: { Id: '5' } },
          { bId: 'b', Fault: { type: 'ValidationFault', Error: [{ Message: 'Stale', code: '5010' }] } },
        ],
      },
      [
        { bId: 'a', entity: 'Customer', entityId: undefined },
        { bId: 'b', entity: 'Customer', entityId: '7' },
        { bId: 'c', entity: 'Vendor', entityId: undefined },
      ],
      1,
      '1-tid',
    );
    assert.deepEqual(ok, { bId: 'a', ok: true, entity: 'Customer', object: { Id: '5' } });
    assert.ok(failed && !failed.ok);
    assert.deepEqual(
      [failed.error.category, failed.error.entityId, failed.error.intuitTid],
      ['conflict', '7', '1-tid'],
    );
    assert.ok(missing && !missing.ok && missing.error.code === 'missing');
  });
});
