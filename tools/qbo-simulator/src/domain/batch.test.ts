import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aStockedCompany, faultOf, T0 } from '../testing/builders.js';
import { batch } from './batch.js';

type Item = { bId: string; Fault?: { Error: { code: string }[] }; QueryResponse?: Record<string, unknown[]> };
const run = (company: ReturnType<typeof aStockedCompany>['company'], items: unknown[], options = {}) =>
  JSON.parse(
    batch(
      company,
      { BatchItemRequest: items },
      { now: T0, overflow: 'truncate', withRequestId: false, ...options },
    ).json,
  ) as Item[];

describe('batch', () => {
  test('items are independent: a record created by one item is not seen by the next', () => {
    const { company } = aStockedCompany(1);
    const [created, queried, referred] = run(company, [
      { bId: '1', operation: 'create', Customer: { DisplayName: 'Fresh Ltd' } },
      { bId: '2', Query: "select * from Customer where DisplayName = 'Fresh Ltd'" },
      { bId: '3', operation: 'update', Customer: { Id: '2', SyncToken: '0', sparse: true, Notes: 'x' } },
    ]);
    assert.equal(created?.Fault, undefined);
    assert.deepEqual(queried?.QueryResponse, {});
    assert.equal(referred?.Fault?.Error[0]?.code, '610');
    assert.equal(company.find('Customer', '2')?.data.DisplayName, 'Fresh Ltd', 'visible after the batch');
    assert.equal(
      run(company, [{ bId: '1', Query: "select * from Customer where Id = '2'" }])[0]?.QueryResponse?.Customer
        ?.length,
      1,
    );
  });

  test('caps the whole response at 1000 objects: later query rows are cut, or the item faults', () => {
    const { company } = aStockedCompany(700);
    const items = [
      { bId: 'a', Query: 'select * from Customer maxresults 600' },
      { bId: 'b', Query: 'select * from Customer startposition 601 maxresults 600' },
    ];
    const cut = run(company, items);
    assert.equal(cut[0]?.QueryResponse?.Customer?.length, 600);
    assert.equal(cut[1]?.QueryResponse?.Customer?.length, 100);
    const faulted = run(
      company,
      [...items.slice(0, 1), { bId: 'b', Query: 'select * from Customer maxresults 500' }],
      {
        overflow: 'fault',
      },
    );
    assert.equal(faulted[1]?.Fault?.Error[0]?.code, '6000');
  });

  test('refuses duplicate bIds, and bIds over 10 characters when the batch has a requestid', () => {
    const { company } = aStockedCompany(1);
    const duplicate = faultOf(() =>
      run(company, [
        { bId: 'x', Query: 'select * from Customer' },
        { bId: 'x', Query: 'select * from Customer' },
      ]),
    );
    assert.equal(duplicate.errors[0]?.code, '6000');
    const long = { bId: 'b'.repeat(11), Query: 'select * from Customer' };
    assert.equal(run(company, [long], { withRequestId: true })[0]?.Fault?.Error[0]?.code, '6000');
    assert.equal(run(company, [long])[0]?.Fault, undefined);
  });
});
