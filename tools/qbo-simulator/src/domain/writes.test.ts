import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aStockedCompany, create, faultOf, T0 } from '../testing/builders.js';
import { ENTITY_DEFS } from './entities/registry.js';
import { deleteRecord, mergeRecords, updateRecord, voidRecord } from './writes.js';

const invoiceFor = (stock: ReturnType<typeof aStockedCompany>, qty = 2) =>
  create(stock.company, 'Invoice', {
    CustomerRef: { value: '1' },
    Line: [
      {
        DetailType: 'SalesItemLineDetail',
        SalesItemLineDetail: { ItemRef: { value: stock.item.Id }, Qty: qty, UnitPrice: 75 },
      },
    ],
  }).body;

describe('writes', () => {
  test('creates with SyncToken 0, string ids and Pacific MetaData', () => {
    const { company } = aStockedCompany(0);
    const body = create(company, 'Customer', { GivenName: 'Amy', FamilyName: 'Lee' }).body;
    assert.equal(body.Id, '1');
    assert.equal(body.SyncToken, '0');
    assert.equal(body.DisplayName, 'Amy Lee');
    assert.deepEqual(body.MetaData, {
      CreateTime: '2026-03-01T04:00:00-08:00',
      LastUpdatedTime: '2026-03-01T04:00:00-08:00',
    });
  });

  test('rejects a stale SyncToken with the stale-object fault', () => {
    const { company } = aStockedCompany(1);
    updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '1', SyncToken: '0', sparse: true, Notes: 'a' },
      T0 + 1,
    );
    const fault = faultOf(() =>
      updateRecord(
        company,
        ENTITY_DEFS.Customer,
        { Id: '1', SyncToken: '0', sparse: true, Notes: 'b' },
        T0 + 2,
      ),
    );
    assert.equal(fault.status, 400);
    assert.equal(fault.errors[0]?.code, '5010');
    assert.equal(fault.errors[0]?.Message, 'Stale Object Error');
  });

  test('increments SyncToken by exactly one per write', () => {
    const { company } = aStockedCompany(1);
    const body = updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '1', SyncToken: '0', sparse: true, Notes: 'a' },
      T0 + 1,
    ).body;
    assert.equal(body.SyncToken, '1');
  });

  test('keeps unsent fields on a sparse update and clears them on a full update', () => {
    const { company } = aStockedCompany(0);
    create(company, 'Customer', { DisplayName: 'Amy', Notes: 'keep me' });
    const sparse = updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '1', SyncToken: '0', sparse: true, CompanyName: 'X' },
      T0 + 1,
    ).body;
    assert.equal(sparse.Notes, 'keep me');
    const full = updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '1', SyncToken: '1', DisplayName: 'Amy' },
      T0 + 2,
    ).body;
    assert.equal(full.Notes, undefined);
    assert.equal(full.CompanyName, undefined);
  });

  test('refuses a DisplayName another customer or vendor uses, whatever the case', () => {
    const { company } = aStockedCompany(1);
    const fault = faultOf(() => create(company, 'Vendor', { DisplayName: 'CUSTOMER 1' }));
    assert.equal(fault.errors[0]?.code, '6240');
  });

  test('refuses unknown properties', () => {
    const { company } = aStockedCompany(0);
    assert.equal(
      faultOf(() => create(company, 'Customer', { DisplayName: 'A', Colour: 'red' })).errors[0]?.code,
      '2010',
    );
  });

  test('marks a deactivated name with (deleted) and reports the change as a Delete', () => {
    const { company } = aStockedCompany(1);
    const result = updateRecord(
      company,
      ENTITY_DEFS.Customer,
      { Id: '1', SyncToken: '0', sparse: true, Active: false },
      T0 + 1,
    );
    assert.equal(result.body.DisplayName, 'Customer 1 (deleted)');
    assert.equal(result.events[0]?.operation, 'Delete');
  });

  test('refuses to delete a name-list record', () => {
    const { company } = aStockedCompany(1);
    const fault = faultOf(() =>
      deleteRecord(company, ENTITY_DEFS.Customer, { Id: '1', SyncToken: '0' }, T0 + 1),
    );
    assert.equal(fault.errors[0]?.code, '500');
  });

  test('derives invoice totals and a SubTotal line from the sales lines', () => {
    const stock = aStockedCompany(1);
    const invoice = invoiceFor(stock, 4.5);
    assert.equal(invoice.TotalAmt, 337.5);
    assert.equal(invoice.Balance, 337.5);
    assert.equal(invoice.DocNumber, '1001');
    assert.equal((invoice.Line as { DetailType: string }[]).at(-1)?.DetailType, 'SubTotalLineDetail');
    assert.equal(stock.company.find('Customer', '1')?.data.Balance, 337.5);
  });

  test('applies a payment to its invoice, saving the invoice as a new version', () => {
    const stock = aStockedCompany(1);
    const invoice = invoiceFor(stock);
    const result = create(
      stock.company,
      'Payment',
      {
        CustomerRef: { value: '1' },
        TotalAmt: 100,
        Line: [{ Amount: 100, LinkedTxn: [{ TxnId: invoice.Id, TxnType: 'Invoice' }] }],
      },
      T0 + 5000,
    );
    const saved = stock.company.find('Invoice', String(invoice.Id))?.data;
    assert.equal(saved?.Balance, 50);
    assert.equal(saved?.SyncToken, '1');
    assert.deepEqual(saved?.LinkedTxn, [{ TxnId: result.body.Id, TxnType: 'Payment' }]);
    assert.deepEqual(
      result.events.map((e) => `${e.entity}:${e.operation}`),
      ['Payment:Create', 'Invoice:Update'],
    );
    assert.equal(stock.company.find('Customer', '1')?.data.Balance, 50);
  });

  test('deletes a transaction into a tombstone and answers status Deleted', () => {
    const stock = aStockedCompany(1);
    const invoice = invoiceFor(stock);
    const result = deleteRecord(
      stock.company,
      ENTITY_DEFS.Invoice,
      { Id: invoice.Id, SyncToken: '0' },
      T0 + 1,
    );
    assert.deepEqual(result.body, { status: 'Deleted', domain: 'QBO', Id: invoice.Id });
    assert.equal(stock.company.find('Invoice', String(invoice.Id))?.deleted, true);
    assert.equal(stock.company.find('Customer', '1')?.data.Balance, 0);
  });

  test('voids an invoice: amounts zeroed, note prefixed, SyncToken + 1', () => {
    const stock = aStockedCompany(1);
    const invoice = invoiceFor(stock);
    const body = voidRecord(
      stock.company,
      ENTITY_DEFS.Invoice,
      { Id: invoice.Id, SyncToken: '0' },
      T0 + 1,
    ).body;
    assert.equal(body.TotalAmt, 0);
    assert.equal(body.Balance, 0);
    assert.equal(body.PrivateNote, 'Voided');
    assert.equal(body.SyncToken, '1');
  });

  test('merges a customer away: its transactions move to the survivor and one Merge event names both', () => {
    const stock = aStockedCompany(2);
    const invoice = create(stock.company, 'Invoice', {
      CustomerRef: { value: '2' },
      Line: [
        {
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: { ItemRef: { value: stock.item.Id }, Qty: 1, UnitPrice: 75 },
        },
      ],
    }).body;
    const result = mergeRecords(stock.company, ENTITY_DEFS.Customer, '2', '1', T0 + 1);
    assert.deepEqual(result.events[0], {
      realmId: stock.company.realmId,
      entity: 'Customer',
      id: '1',
      operation: 'Merge',
      updatedMs: T0 + 1,
      deletedId: '2',
    });
    assert.equal(
      (stock.company.find('Invoice', String(invoice.Id))?.data.CustomerRef as { value: string } | undefined)
        ?.value,
      '1',
    );
    assert.equal(stock.company.find('Customer', '2')?.deleted, true);
    assert.equal(stock.company.find('Customer', '1')?.data.Balance, 75);
  });
});
