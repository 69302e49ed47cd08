import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aStockedCompany, create, faultOf, T0 } from '../../testing/builders.js';
import { ENTITY_DEFS } from '../entities/registry.js';
import { updateRecord } from '../writes.js';
import { executeQuery, queryResponseJson } from './execute.js';

const answer = (company: ReturnType<typeof aStockedCompany>['company'], query: string) =>
  JSON.parse(queryResponseJson(executeQuery(company, query))) as Record<string, unknown>;

const ids = (response: Record<string, unknown>) =>
  ((response.Customer as { Id: string }[] | undefined) ?? []).map((c) => c.Id);

describe('query language', () => {
  test('reads keywords, entity and property names in any case', () => {
    const { company } = aStockedCompany(12);
    const r = answer(
      company,
      "sElEcT * FrOm cUstomer wHeRe displayname = 'Customer 3' Startposition 1 maxResults 5",
    );
    assert.deepEqual(ids(r), ['3']);
  });

  test('compares string values case-insensitively', () => {
    const { company } = aStockedCompany(3);
    assert.deepEqual(ids(answer(company, "select * from Customer where DisplayName = 'CUSTOMER 2'")), ['2']);
  });

  test('unescapes a backslash-quoted apostrophe inside a string', () => {
    const { company } = aStockedCompany(0);
    create(company, 'Customer', { DisplayName: "O'Brien & Co" });
    const r = answer(company, "select * from customer where DisplayName = 'O\\'Brien & Co'");
    assert.equal((r.Customer as { DisplayName: string }[])[0]?.DisplayName, "O'Brien & Co");
  });

  test('accepts ORDER BY in two words and ORDERBY in one', () => {
    const { company } = aStockedCompany(3);
    const one = ids(answer(company, 'select * from Customer orderby DisplayName desc'));
    const two = ids(answer(company, 'select * from Customer ORDER BY DisplayName DESC'));
    assert.deepEqual(one, ['3', '2', '1']);
    assert.deepEqual(two, one);
  });

  test('pages from a 1-based STARTPOSITION and reports the rows returned as maxResults', () => {
    const { company } = aStockedCompany(25);
    const r = answer(company, 'select * from Customer startposition 21 maxresults 10');
    assert.deepEqual(ids(r), ['21', '22', '23', '24', '25']);
    assert.equal(r.startPosition, 21);
    assert.equal(r.maxResults, 5);
  });

  test('answers an empty object when the page starts past the last row', () => {
    const { company } = aStockedCompany(5);
    assert.deepEqual(answer(company, 'select * from Customer startposition 6 maxresults 10'), {});
  });

  test('returns 100 rows when MAXRESULTS is omitted', () => {
    const { company } = aStockedCompany(150);
    assert.equal(ids(answer(company, 'select * from Customer')).length, 100);
  });

  test('rejects MAXRESULTS above 1000 as Intuit does', () => {
    const { company } = aStockedCompany(1);
    const fault = faultOf(() => executeQuery(company, 'select * from Customer maxresults 1001'));
    assert.equal(fault.errors[0]?.code, '4001');
    assert.equal(
      fault.errors[0]?.Detail,
      'QueryValidationError: value 1001 is too large. Max allowed value is 1000',
    );
  });

  test('reports a parse error with the offending token and its column', () => {
    const { company } = aStockedCompany(1);
    const fault = faultOf(() => executeQuery(company, 'select * from Customer wher Id = 1'));
    assert.equal(fault.errors[0]?.code, '4000');
    assert.equal(
      fault.errors[0]?.Detail,
      'QueryParserError: Encountered " <IDENTIFIER> "wher "" at line 1, column 24.',
    );
  });

  test('rejects a property the entity does not have', () => {
    const { company } = aStockedCompany(1);
    const fault = faultOf(() => executeQuery(company, "select * from Customer where NoSuchField = 'x'"));
    assert.equal(
      fault.errors[0]?.Detail,
      'QueryValidationError: Property NoSuchField not found for Entity Customer',
    );
  });

  test('allows only = and IN on Id', () => {
    const { company } = aStockedCompany(3);
    assert.deepEqual(ids(answer(company, "select * from Customer where Id IN ('1','3')")), ['1', '3']);
    assert.equal(
      faultOf(() => executeQuery(company, "select * from Customer where Id > '1'")).errors[0]?.code,
      '4001',
    );
  });

  test('counts with COUNT(*) and answers totalCount alone', () => {
    const { company } = aStockedCompany(7);
    assert.deepEqual(answer(company, 'select count(*) from Customer startposition 1 maxresults 1000'), {
      totalCount: 7,
    });
  });

  test('hides inactive name-list records unless Active is in the query', () => {
    const { company } = aStockedCompany(3);
    const c2 = company.find('Customer', '2');
    updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '2', SyncToken: c2?.data.SyncToken, sparse: true, Active: false },
      T0 + 10_000,
    );
    assert.deepEqual(ids(answer(company, 'select * from Customer')), ['1', '3']);
    assert.deepEqual(ids(answer(company, 'select * from Customer where Active IN (true, false)')), [
      '1',
      '2',
      '3',
    ]);
    assert.deepEqual(ids(answer(company, 'select * from Customer where Active = false')), ['2']);
  });

  test('filters with LIKE and the % wildcard', () => {
    const { company } = aStockedCompany(12);
    assert.deepEqual(ids(answer(company, "select * from Customer where DisplayName LIKE 'customer 1%'")), [
      '1',
      '10',
      '11',
      '12',
    ]);
  });

  test('filters and orders by MetaData.LastUpdatedTime across offsets', () => {
    const { company } = aStockedCompany(5);
    const since = new Date(T0 + 3000).toISOString().replace('Z', '+00:00');
    const r = answer(
      company,
      `SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '${since}' AND Active IN (true, false) ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION 1 MAXRESULTS 2`,
    );
    assert.deepEqual(ids(r), ['3', '4']);
  });

  test('compares quoted numbers as numbers', () => {
    const { company, item } = aStockedCompany(2);
    for (const qty of [1, 20]) {
      create(company, 'Invoice', {
        CustomerRef: { value: '1' },
        Line: [
          {
            DetailType: 'SalesItemLineDetail',
            SalesItemLineDetail: { ItemRef: { value: item.Id }, Qty: qty, UnitPrice: 75 },
          },
        ],
      });
    }
    const r = answer(company, "select * from Invoice where TotalAmt > '1000.0'");
    assert.deepEqual(
      (r.Invoice as { TotalAmt: number }[]).map((i) => i.TotalAmt),
      [1500],
    );
  });

  test('returns only the selected fields for a field list', () => {
    const { company } = aStockedCompany(1);
    const r = answer(company, 'select Id, DisplayName from Customer');
    assert.deepEqual(r.Customer, [{ Id: '1', DisplayName: 'Customer 1', domain: 'QBO', sparse: true }]);
  });
  test('reads CURRENT_DATE as today in US-Pacific time', () => {
    const { company } = aStockedCompany(0);
    const receipt = (TxnDate: string) =>
      create(company, 'Transfer', {
        FromAccountRef: { value: '1' },
        ToAccountRef: { value: '1' },
        Amount: 1,
        TxnDate,
      });
    receipt('2026-02-28');
    receipt('2026-03-01');
    receipt('2026-03-02');
    // T0 is 2026-03-01T12:00Z: 04:00 in Pacific time, the same date.
    const r = JSON.parse(
      queryResponseJson(
        executeQuery(company, 'select * from Transfer where TxnDate = CURRENT_DATE', { now: T0 }),
      ),
    ) as { Transfer: { TxnDate: string }[] };
    assert.deepEqual(
      r.Transfer.map((t) => t.TxnDate),
      ['2026-03-01'],
    );
  });

  test("matches an absent property with ' ', the query language's null", () => {
    const { company } = aStockedCompany(2);
    create(company, 'Customer', { DisplayName: 'Acme', CompanyName: 'Acme Inc' });
    assert.deepEqual(ids(answer(company, "select * from Customer where CompanyName = ' '")), ['1', '2']);
  });

  test('pages at the edges: STARTPOSITION 0 reads as 1, MAXRESULTS 1000 is allowed, a negative is a parse error', () => {
    const { company } = aStockedCompany(3);
    assert.deepEqual(ids(answer(company, 'select * from Customer startposition 0 maxresults 2')), ['1', '2']);
    assert.equal(ids(answer(company, 'select * from Customer maxresults 1000')).length, 3);
    assert.deepEqual(answer(company, 'select * from Customer startposition 4'), {});
    const negative = faultOf(() => executeQuery(company, 'select * from Customer startposition -1'));
    assert.equal(negative.errors[0]?.code, '4000');
  });

  test('fails a page holding a poisoned record and serves the others', () => {
    const { company } = aStockedCompany(5);
    const poison = (entity: string, id: string) => (entity === 'Customer' && id === '4' ? '4002' : undefined);
    const fault = faultOf(() => executeQuery(company, 'select * from Customer', { poison }));
    assert.equal(fault.errors[0]?.code, '4002');
    assert.equal(executeQuery(company, 'select * from Customer maxresults 3', { poison }).kind, 'rows');
    assert.equal(executeQuery(company, 'select count(*) from Customer', { poison }).kind, 'count');
  });
});
