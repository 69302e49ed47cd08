import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatMetaTime } from '../qbo-time.js';
import { aStockedCompany, create, T0 } from '../testing/builders.js';
import { changeDataCapture } from './cdc.js';
import { ENTITY_DEFS } from './entities/registry.js';
import { isQboFault } from './fault.js';
import { deleteRecord } from './writes.js';

const DAY = 86_400_000;
const cdc = (
  company: ReturnType<typeof aStockedCompany>['company'],
  entities: string,
  since: number,
  now: number,
) =>
  JSON.parse(changeDataCapture(company, { entities, changedSince: formatMetaTime(since) }, now)) as [
    { QueryResponse: Record<string, unknown>[] },
  ];

describe('change data capture', () => {
  test('returns objects changed since the given time, grouped by entity in request order', () => {
    const stock = aStockedCompany(3);
    const [answer] = cdc(stock.company, 'customer,Item', T0 + 2000, T0 + DAY);
    const groups = answer.QueryResponse;
    assert.deepEqual(
      groups.map((g) => Object.keys(g)[0]),
      ['Customer'],
    );
    const customers = (groups[0]?.Customer ?? []) as { Id: string }[];
    assert.deepEqual(
      customers.map((c) => c.Id),
      ['2', '3'],
    );
  });

  test('answers one empty object when nothing changed', () => {
    const stock = aStockedCompany(1);
    assert.deepEqual(cdc(stock.company, 'Customer', T0 + DAY, T0 + 2 * DAY), [{ QueryResponse: [{}] }]);
  });

  test('refuses a changedSince older than 30 days', () => {
    const stock = aStockedCompany(1);
    assert.throws(
      () => cdc(stock.company, 'Customer', T0, T0 + 31 * DAY),
      (err) => isQboFault(err) && /older than fixed days is not supported/.test(err.errors[0]?.Detail ?? ''),
    );
  });

  test('accepts a changedSince of exactly 30 days ago', () => {
    const stock = aStockedCompany(1);
    assert.doesNotThrow(() => cdc(stock.company, 'Customer', T0 + DAY, T0 + 31 * DAY));
  });

  test('lists deleted transactions as stubs after the live objects', () => {
    const stock = aStockedCompany(1);
    const line = {
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: { value: stock.item.Id }, Qty: 1, UnitPrice: 5 },
    };
    const a = create(
      stock.company,
      'Invoice',
      { CustomerRef: { value: '1' }, Line: [line] },
      T0 + 10_000,
    ).body;
    create(stock.company, 'Invoice', { CustomerRef: { value: '1' }, Line: [line] }, T0 + 20_000);
    deleteRecord(stock.company, ENTITY_DEFS.Invoice, { Id: a.Id, SyncToken: '0' }, T0 + 15_000);
    const [answer] = cdc(stock.company, 'Invoice', T0, T0 + DAY);
    const invoices = answer.QueryResponse[0]?.Invoice as Record<string, unknown>[];
    assert.equal(invoices[0]?.Id, '2');
    assert.deepEqual(invoices[1], {
      domain: 'QBO',
      status: 'Deleted',
      Id: a.Id,
      MetaData: { LastUpdatedTime: formatMetaTime(T0 + 15_000) },
    });
  });

  test('stops at 1000 objects across all entities without paging', () => {
    const stock = aStockedCompany(1200);
    const [answer] = cdc(stock.company, 'Customer,Account', T0 - 1, T0 + DAY);
    const groups = answer.QueryResponse;
    assert.equal(groups.length, 1);
    assert.equal(((groups[0]?.Customer ?? []) as unknown[]).length, 1000);
    assert.equal(groups[0]?.maxResults, 1000);
    assert.equal(groups[0]?.totalCount, 1200);
  });
});
