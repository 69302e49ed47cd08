import { faults } from '../fault.js';
import { cents, fields, isRecord } from './common.js';
import type { EntityDeclaration } from './declare.js';
import { PARTY_NAME_FIELDS } from './party.js';
import type { QboObject } from './types.js';

/**
 * The entities beyond the first six, as data (qbo-api-facts §2.6, §3, §4.2, §4.3, §7.5): name lists are
 * made inactive, never deleted, and carry a unique name; transactions are deleted (a CDC tombstone stays)
 * and, where Intuit allows `operation=void`, voided. Refs are checked by the shared `*Ref` table (refs.ts).
 */

/** Writable properties most transactions share. */
const TXN = ['Line', 'TxnDate', 'DocNumber', 'PrivateNote', 'CurrencyRef', 'ExchangeRate', 'DepartmentRef'];
const SALES = [...TXN, 'CustomerRef', 'CustomerMemo', 'BillAddr', 'ShipAddr', 'BillEmail', 'ClassRef'];
const SALES_READ_ONLY = ['TotalAmt', 'HomeTotalAmt', 'TxnTaxDetail'];
const txnFields = (...extra: Parameters<typeof fields>[0]) =>
  fields([['TxnDate', 'date'], ['DocNumber', 'string'], ['TotalAmt', 'number'], ...extra]);

function balancedJournal(data: QboObject): void {
  let debit = 0;
  let credit = 0;
  for (const line of (data.Line as QboObject[] | undefined) ?? []) {
    const detail = line.JournalEntryLineDetail;
    if (!isRecord(detail) || (detail.PostingType !== 'Debit' && detail.PostingType !== 'Credit')) {
      throw faults.required('JournalEntryLineDetail.PostingType');
    }
    if (detail.PostingType === 'Debit') debit += Number(line.Amount);
    else credit += Number(line.Amount);
  }
  if (cents(debit) !== cents(credit)) {
    throw faults.businessValidation(
      'Business Validation Error: Journal Entry is out of balance. Debits and credits must be equal.',
    );
  }
}

function oneOf(property: string, allowed: readonly string[]) {
  return (data: QboObject) => {
    if (!allowed.includes(String(data[property]))) {
      throw faults.invalidProperty(`Property Name:${property} specified is unsupported or invalid`);
    }
  };
}

/** Class and Department: a named list that nests under a parent and shows its full name. */
function hierarchy(
  name: 'Class' | 'Department',
  sub: 'SubClass' | 'SubDepartment',
  scope: 'class' | 'department',
): EntityDeclaration {
  return {
    name,
    kind: 'name-list',
    fields: fields([
      ['Name', 'string'],
      ['Active', 'boolean'],
      ['FullyQualifiedName', 'string'],
      [sub, 'boolean'],
    ]),
    writable: ['Name', 'Active', sub, 'ParentRef'],
    readOnly: ['FullyQualifiedName'],
    unique: { field: 'Name', scope },
    defaults: { [sub]: false },
  };
}

export const DECLARATIONS: readonly EntityDeclaration[] = [
  {
    name: 'Bill',
    kind: 'transaction',
    fields: txnFields(['DueDate', 'date'], ['VendorRef', 'ref'], ['Balance', 'number']),
    writable: [...TXN, 'VendorRef', 'APAccountRef', 'DueDate', 'SalesTermRef', 'LinkedTxn'],
    readOnly: ['TotalAmt', 'Balance', 'HomeBalance'],
    required: ['VendorRef', 'Line'],
    totalFromLines: true,
    balanceField: 'Balance',
  },
  {
    name: 'BillPayment',
    kind: 'transaction',
    fields: txnFields(['VendorRef', 'ref'], ['PayType', 'string']),
    writable: [
      ...TXN,
      'VendorRef',
      'PayType',
      'TotalAmt',
      'CheckPayment',
      'CreditCardPayment',
      'APAccountRef',
    ],
    required: ['VendorRef', 'PayType', 'TotalAmt'],
    voidable: true,
    check: oneOf('PayType', ['Check', 'CreditCard']),
  },
  {
    name: 'JournalEntry',
    kind: 'transaction',
    fields: txnFields(['Adjustment', 'boolean']),
    writable: [...TXN, 'Adjustment'],
    readOnly: ['TotalAmt', 'HomeTotalAmt'],
    required: ['Line'],
    totalFromLines: true,
    docNumber: true,
    defaults: { Adjustment: false },
    check: balancedJournal,
  },
  {
    name: 'Estimate',
    kind: 'transaction',
    fields: txnFields(['CustomerRef', 'ref'], ['TxnStatus', 'string'], ['ExpirationDate', 'date']),
    writable: [
      ...SALES,
      'TxnStatus',
      'ExpirationDate',
      'AcceptedBy',
      'AcceptedDate',
      'EmailStatus',
      'PrintStatus',
    ],
    readOnly: [...SALES_READ_ONLY, 'LinkedTxn'],
    required: ['CustomerRef', 'Line'],
    totalFromLines: true,
    docNumber: true,
    defaults: { TxnStatus: 'Pending', EmailStatus: 'NotSet', PrintStatus: 'NotSet' },
  },
  {
    name: 'SalesReceipt',
    kind: 'transaction',
    fields: txnFields(['CustomerRef', 'ref'], ['Balance', 'number']),
    writable: [
      ...SALES,
      'DepositToAccountRef',
      'PaymentMethodRef',
      'PaymentRefNum',
      'EmailStatus',
      'PrintStatus',
    ],
    readOnly: [...SALES_READ_ONLY, 'Balance'],
    required: ['Line'],
    voidable: true,
    totalFromLines: true,
    docNumber: true,
    defaults: { Balance: 0, EmailStatus: 'NotSet', PrintStatus: 'NotSet' },
  },
  {
    name: 'CreditMemo',
    kind: 'transaction',
    fields: txnFields(['CustomerRef', 'ref'], ['RemainingCredit', 'number']),
    writable: [...SALES, 'EmailStatus', 'PrintStatus'],
    readOnly: [...SALES_READ_ONLY, 'RemainingCredit', 'Balance'],
    required: ['CustomerRef', 'Line'],
    totalFromLines: true,
    docNumber: true,
    balanceField: 'RemainingCredit',
  },
  {
    name: 'RefundReceipt',
    kind: 'transaction',
    fields: txnFields(['CustomerRef', 'ref']),
    writable: [...SALES, 'DepositToAccountRef', 'PaymentMethodRef', 'PaymentRefNum'],
    readOnly: [...SALES_READ_ONLY, 'Balance'],
    required: ['Line', 'DepositToAccountRef'],
    totalFromLines: true,
    docNumber: true,
  },
  {
    name: 'Purchase',
    kind: 'transaction',
    fields: txnFields(['PaymentType', 'string'], ['AccountRef', 'ref']),
    writable: [...TXN, 'AccountRef', 'PaymentType', 'EntityRef', 'PaymentMethodRef', 'Credit', 'PrintStatus'],
    readOnly: ['TotalAmt'],
    required: ['AccountRef', 'PaymentType', 'Line'],
    totalFromLines: true,
    check: oneOf('PaymentType', ['Cash', 'Check', 'CreditCard']),
  },
  {
    name: 'Deposit',
    kind: 'transaction',
    fields: txnFields(['DepositToAccountRef', 'ref']),
    writable: [...TXN, 'DepositToAccountRef', 'CashBack'],
    readOnly: ['TotalAmt', 'HomeTotalAmt'],
    required: ['DepositToAccountRef', 'Line'],
    totalFromLines: true,
  },
  {
    name: 'Transfer',
    kind: 'transaction',
    fields: fields([
      ['TxnDate', 'date'],
      ['Amount', 'number'],
    ]),
    writable: ['TxnDate', 'PrivateNote', 'CurrencyRef', 'FromAccountRef', 'ToAccountRef', 'Amount'],
    required: ['FromAccountRef', 'ToAccountRef', 'Amount'],
  },
  {
    name: 'VendorCredit',
    kind: 'transaction',
    fields: txnFields(['VendorRef', 'ref'], ['Balance', 'number']),
    writable: [...TXN, 'VendorRef', 'APAccountRef'],
    readOnly: ['TotalAmt', 'Balance'],
    required: ['VendorRef', 'Line'],
    totalFromLines: true,
    balanceField: 'Balance',
  },
  {
    name: 'PurchaseOrder',
    kind: 'transaction',
    fields: txnFields(['VendorRef', 'ref'], ['POStatus', 'string']),
    writable: [...TXN, 'VendorRef', 'APAccountRef', 'POStatus', 'POEmail', 'ShipAddr', 'DueDate', 'Memo'],
    readOnly: ['TotalAmt', 'LinkedTxn'],
    required: ['VendorRef', 'Line'],
    totalFromLines: true,
    docNumber: true,
    defaults: { POStatus: 'Open' },
  },
  {
    name: 'Employee',
    kind: 'name-list',
    fields: fields([
      ['DisplayName', 'string'],
      ['GivenName', 'string'],
      ['FamilyName', 'string'],
      ['Active', 'boolean'],
      ['EmployeeNumber', 'string'],
    ]),
    writable: [
      ...PARTY_NAME_FIELDS,
      'PrintOnCheckName',
      'Active',
      'PrimaryEmailAddr',
      'PrimaryPhone',
      'Mobile',
      'PrimaryAddr',
      'EmployeeNumber',
      'SSN',
      'HiredDate',
      'ReleasedDate',
      'BirthDate',
      'Gender',
      'BillableTime',
      'BillRate',
      'CostRate',
    ],
    unique: { field: 'DisplayName', scope: 'party' },
    defaults: { BillableTime: false },
  },
  hierarchy('Class', 'SubClass', 'class'),
  hierarchy('Department', 'SubDepartment', 'department'),
  {
    name: 'Term',
    kind: 'name-list',
    fields: fields([
      ['Name', 'string'],
      ['Active', 'boolean'],
      ['Type', 'string'],
      ['DueDays', 'number'],
    ]),
    writable: ['Name', 'Active', 'Type', 'DueDays', 'DiscountDays', 'DiscountPercent', 'DayOfMonthDue'],
    unique: { field: 'Name', scope: 'term' },
    defaults: { Type: 'STANDARD', DueDays: 30 },
    check: oneOf('Type', ['STANDARD', 'DATE_DRIVEN']),
  },
  {
    name: 'PaymentMethod',
    kind: 'name-list',
    fields: fields([
      ['Name', 'string'],
      ['Active', 'boolean'],
      ['Type', 'string'],
    ]),
    writable: ['Name', 'Active', 'Type'],
    unique: { field: 'Name', scope: 'paymentmethod' },
    defaults: { Type: 'NON_CREDIT_CARD' },
    check: oneOf('Type', ['CREDIT_CARD', 'NON_CREDIT_CARD']),
  },
  {
    name: 'TaxCode',
    kind: 'name-list',
    fields: fields([
      ['Name', 'string'],
      ['Active', 'boolean'],
      ['Taxable', 'boolean'],
    ]),
    writable: [],
    readOnly: ['Name', 'Description', 'Active', 'Taxable', 'TaxGroup', 'Hidden', 'SalesTaxRateList'],
    unique: { field: 'Name', scope: 'taxcode' },
    readOnlyEntity: true,
    noCdc: true,
  },
];
