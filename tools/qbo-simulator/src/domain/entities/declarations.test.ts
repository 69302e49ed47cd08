import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aBookkeepingCompany, create, faultOf, T0 } from '../../testing/builders.js';
import { changeDataCapture } from '../cdc.js';
import { deleteRecord, updateRecord, voidRecord } from '../writes.js';
import { ENTITY_DEFS } from './registry.js';

const expense = (account: string, amount: number) => ({
  Amount: amount,
  DetailType: 'AccountBasedExpenseLineDetail',
  AccountBasedExpenseLineDetail: { AccountRef: { value: account } },
});

/** Voids a record still at SyncToken 0. */
const voidFirstVersion = (
  books: ReturnType<typeof aBookkeepingCompany>,
  entity: 'SalesReceipt' | 'BillPayment',
  id: unknown,
  at: number,
) => voidRecord(books.company, ENTITY_DEFS[entity], { Id: id, SyncToken: '0' }, at);

describe('declared entities', () => {
  test('a bill totals its lines, opens a balance for it and fills ref names', () => {
    const books = aBookkeepingCompany();
    const bill = create(books.company, 'Bill', {
      VendorRef: { value: books.vendor.Id },
      Line: [expense(books.advertising, 100), expense(books.advertising, 20.5)],
    }).body;
    assert.equal(bill.TotalAmt, 120.5);
    assert.equal(bill.Balance, 120.5);
    assert.deepEqual(bill.VendorRef, { value: books.vendor.Id, name: 'Paper Co' });
    assert.deepEqual(
      (bill.Line as { LineNum: number }[]).map((l) => l.LineNum),
      [1, 2],
    );
  });

  test('a missing required field is 2020 and an unknown ref is Object Not Found', () => {
    const books = aBookkeepingCompany();
    const missing = faultOf(() => create(books.company, 'Bill', { Line: [expense(books.advertising, 1)] }));
    assert.equal(missing.errors[0]?.code, '2020');
    assert.equal(missing.errors[0]?.element, 'VendorRef');
    const unknown = faultOf(() =>
      create(books.company, 'Bill', { VendorRef: { value: '999' }, Line: [expense(books.advertising, 1)] }),
    );
    assert.equal(unknown.errors[0]?.code, '610');
    const nested = faultOf(() =>
      create(books.company, 'Bill', { VendorRef: { value: books.vendor.Id }, Line: [expense('999', 1)] }),
    );
    assert.equal(nested.errors[0]?.code, '610', 'refs inside lines are checked too');
  });

  test('a journal entry must balance', () => {
    const books = aBookkeepingCompany();
    const line = (type: string, amount: number) => ({
      Amount: amount,
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: { PostingType: type, AccountRef: { value: books.checking } },
    });
    const fault = faultOf(() =>
      create(books.company, 'JournalEntry', { Line: [line('Debit', 10), line('Credit', 9)] }),
    );
    assert.equal(fault.errors[0]?.code, '6000');
    const entry = create(books.company, 'JournalEntry', {
      Line: [line('Debit', 10), line('Credit', 10)],
    }).body;
    assert.equal(entry.TotalAmt, 10);
  });

  test('voids a sales receipt and a bill payment: the record stays, amounts zero, no status field', () => {
    const books = aBookkeepingCompany();
    const receipt = create(books.company, 'SalesReceipt', {
      Line: [
        {
          Amount: 50,
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: { ItemRef: { value: books.item.Id } },
        },
      ],
      PrivateNote: 'counter sale',
    }).body;
    const voided = voidFirstVersion(books, 'SalesReceipt', receipt.Id, T0 + 1).body;
    assert.equal(voided.TotalAmt, 0);
    assert.equal((voided.Line as { Amount: number }[])[0]?.Amount, 0);
    assert.equal(voided.PrivateNote, 'Voided - counter sale');
    assert.equal('status' in voided, false);
    const payment = create(books.company, 'BillPayment', {
      VendorRef: { value: books.vendor.Id },
      PayType: 'Check',
      TotalAmt: 30,
      CheckPayment: { BankAccountRef: { value: books.checking } },
    }).body;
    const result = voidFirstVersion(books, 'BillPayment', payment.Id, T0 + 2);
    assert.equal(result.body.TotalAmt, 0);
    assert.equal(result.events[0]?.operation, 'Void');
  });

  test('refuses to void what Intuit cannot void and to delete a name list', () => {
    const books = aBookkeepingCompany();
    const estimate = create(books.company, 'Estimate', {
      CustomerRef: { value: '1' },
      Line: [
        {
          Amount: 5,
          DetailType: 'SalesItemLineDetail',
          SalesItemLineDetail: { ItemRef: { value: books.item.Id } },
        },
      ],
    }).body;
    const ref = { Id: estimate.Id, SyncToken: '0' };
    assert.equal(
      faultOf(() => voidRecord(books.company, ENTITY_DEFS.Estimate, ref, T0)).errors[0]?.code,
      '500',
    );
    const klass = create(books.company, 'Class', { Name: 'Retail' }).body;
    const classRef = { Id: klass.Id, SyncToken: '0' };
    assert.equal(
      faultOf(() => deleteRecord(books.company, ENTITY_DEFS.Class, classRef, T0)).errors[0]?.code,
      '500',
    );
    const inactive = updateRecord(
      books.company,
      ENTITY_DEFS.Class,
      { ...classRef, sparse: true, Active: false },
      T0,
    );
    assert.equal(inactive.body.Name, 'Retail (deleted)');
    assert.equal(inactive.events[0]?.operation, 'Delete');
  });

  test('name lists keep their names unique, Employee with Customer and Vendor', () => {
    const books = aBookkeepingCompany();
    create(books.company, 'Class', { Name: 'Retail' });
    assert.equal(faultOf(() => create(books.company, 'Class', { Name: 'retail' })).errors[0]?.code, '6240');
    assert.equal(
      faultOf(() => create(books.company, 'Employee', { DisplayName: 'Paper Co' })).errors[0]?.code,
      '6240',
    );
    assert.equal(create(books.company, 'Department', { Name: 'Retail' }).body.FullyQualifiedName, 'Retail');
  });

  test('TaxCode is read-only and CDC refuses it', () => {
    const books = aBookkeepingCompany();
    assert.equal(books.company.find('TaxCode', '2')?.data.Name, 'California');
    assert.equal(faultOf(() => create(books.company, 'TaxCode', { Name: 'X' })).errors[0]?.code, '500');
    const since = new Date(T0 - 1000).toISOString();
    const cdc = faultOf(() =>
      changeDataCapture(books.company, { entities: 'TaxCode', changedSince: since }, T0),
    );
    assert.equal(cdc.errors[0]?.code, '500');
    const line = {
      Amount: 5,
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: { value: books.item.Id }, TaxCodeRef: { value: 'TAX' } },
    };
    assert.equal(
      create(books.company, 'SalesReceipt', { Line: [line] }).body.TotalAmt,
      5,
      'TAX is a pseudo code',
    );
  });
});
