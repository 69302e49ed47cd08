import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aBookkeepingCompany, create, faultOf, T0 } from '../testing/builders.js';
import { changeDataCapture } from './cdc.js';
import { ENTITY_DEFS } from './entities/registry.js';
import { executeQuery, queryResponseJson } from './query/execute.js';
import { type MergePolicy, mergeRecords } from './writes.js';

/** Two vendors, a bill naming the second and a purchase naming it through EntityRef. */
function twoVendors() {
  const books = aBookkeepingCompany();
  const loser = create(books.company, 'Vendor', { DisplayName: 'Paper Company' }).body;
  const line = {
    Amount: 10,
    DetailType: 'AccountBasedExpenseLineDetail',
    AccountBasedExpenseLineDetail: { AccountRef: { value: books.advertising } },
  };
  const bill = create(books.company, 'Bill', { VendorRef: { value: loser.Id }, Line: [line] }).body;
  const purchase = create(books.company, 'Purchase', {
    AccountRef: { value: books.checking },
    PaymentType: 'Cash',
    EntityRef: { value: loser.Id, type: 'Vendor' },
    Line: [line],
  }).body;
  return { ...books, loser, bill, purchase };
}

const cdcJson = (company: ReturnType<typeof aBookkeepingCompany>['company'], entities: string) =>
  JSON.parse(changeDataCapture(company, { entities, changedSince: new Date(T0).toISOString() }, T0 + 10)) as {
    QueryResponse: Record<string, Record<string, unknown>[]>[];
  }[];

/** The Ids a query answers for an entity. */
const queried = (company: ReturnType<typeof aBookkeepingCompany>['company'], entity: string, text: string) =>
  (
    (JSON.parse(queryResponseJson(executeQuery(company, text))) as Record<string, { Id: string }[]>)[
      entity
    ] ?? []
  ).map((r) => r.Id);

/** Merges the second vendor into the first at T0 + 5. */
const mergeVendors = (m: ReturnType<typeof twoVendors>, policy?: MergePolicy) =>
  mergeRecords(m.company, ENTITY_DEFS.Vendor, String(m.loser.Id), String(m.vendor.Id), T0 + 5, policy);

describe('merges', () => {
  test('re-point every ref to the merged-away record, nested ones too, as new versions by default', () => {
    const m = twoVendors();
    const result = mergeVendors(m);
    const bill = m.company.find('Bill', String(m.bill.Id))?.data;
    const purchase = m.company.find('Purchase', String(m.purchase.Id))?.data;
    assert.deepEqual(bill?.VendorRef, { value: m.vendor.Id, name: 'Paper Co' });
    assert.deepEqual(purchase?.EntityRef, { value: m.vendor.Id, type: 'Vendor', name: 'Paper Co' });
    assert.equal(bill?.SyncToken, '1');
    assert.deepEqual(
      result.events.map((e) => [e.entity, e.operation, e.deletedId]),
      [
        ['Vendor', 'Merge', String(m.loser.Id)],
        ['Bill', 'Update', undefined],
        ['Purchase', 'Update', undefined],
      ],
    );
    const [vendors] = cdcJson(m.company, 'Vendor')[0]?.QueryResponse ?? [];
    assert.equal(vendors?.Vendor?.find((v) => v.Id === m.loser.Id)?.status, 'Deleted');
    const [bills] = cdcJson(m.company, 'Bill')[0]?.QueryResponse ?? [];
    assert.equal(bills?.Bill?.find((b) => b.Id === m.bill.Id)?.SyncToken, '1', 'the re-pointed bill in CDC');
    // Queries: the merged-away vendor is gone even when inactive ones are asked for; the bill names the survivor.
    assert.deepEqual(
      queried(
        m.company,
        'Vendor',
        `select * from Vendor where Id = '${m.loser.Id}' and Active in (true, false)`,
      ),
      [],
    );
    assert.deepEqual(queried(m.company, 'Bill', `select * from Bill where VendorRef = '${m.vendor.Id}'`), [
      m.bill.Id,
    ]);
  });

  test('under mergeRelink silent, re-pointed records keep their version and send no event', () => {
    const m = twoVendors();
    const before = m.company.find('Bill', String(m.bill.Id))?.updatedMs;
    const policy = { mergeLoser: 'deleted', mergeRelink: 'silent' } as const;
    const result = mergeVendors(m, policy);
    const bill = m.company.find('Bill', String(m.bill.Id));
    assert.equal((bill?.data.VendorRef as { value?: string } | undefined)?.value, m.vendor.Id);
    assert.equal(bill?.data.SyncToken, '0');
    assert.equal(bill?.updatedMs, before);
    assert.deepEqual(
      result.events.map((e) => e.entity),
      ['Vendor'],
    );
  });

  test('under mergeLoser inactive, the merged-away record stays as Active:false and CDC shows it whole', () => {
    const m = twoVendors();
    const policy = { mergeLoser: 'inactive', mergeRelink: 'touch' } as const;
    mergeVendors(m, policy);
    const loser = m.company.find('Vendor', String(m.loser.Id));
    assert.equal(loser?.deleted, false);
    assert.equal(loser?.data.Active, false);
    assert.equal(loser?.data.DisplayName, 'Paper Company (deleted)');
    const [vendors] = cdcJson(m.company, 'Vendor')[0]?.QueryResponse ?? [];
    assert.equal(vendors?.Vendor?.find((v) => v.Id === m.loser.Id)?.Active, false);
    const loserQuery = `select * from Vendor where Id = '${m.loser.Id}'`;
    assert.deepEqual(queried(m.company, 'Vendor', loserQuery), [], 'hidden from a plain query, as inactive');
    assert.deepEqual(queried(m.company, 'Vendor', `${loserQuery} and Active = false`), [m.loser.Id]);
  });

  test('merges only name lists', () => {
    const m = twoVendors();
    const fault = faultOf(() => mergeRecords(m.company, ENTITY_DEFS.Bill, String(m.bill.Id), '1', T0));
    assert.equal(fault.errors[0]?.code, '500');
  });
});
