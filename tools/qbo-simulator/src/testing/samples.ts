import type { EntityName, QboObject } from '../domain/entities/types.js';

/** Accounts every seeded company has, by Id (the chart in domain/seed-data.ts). */
export const SEEDED_ACCOUNTS = {
  checking: '1',
  savings: '2',
  payable: '6',
  services: '10',
  advertising: '12',
} as const;

/** Records a sample refers to, created beforehand. */
export interface SampleRefs {
  customer: string;
  vendor: string;
  item: string;
}

/** How a record leaves: a name list is made inactive, a transaction deleted or voided. */
export type SampleEnd = 'deactivate' | 'delete' | 'void';

export interface EntitySample {
  entity: Exclude<EntityName, 'TaxCode'>;
  create: (refs: SampleRefs) => QboObject;
  /** A sparse update that must show in the next read. */
  update: QboObject;
  end: SampleEnd;
}

const ref = (value: string) => ({ value });
const expenseLine = (amount: number) => ({
  Amount: amount,
  DetailType: 'AccountBasedExpenseLineDetail',
  AccountBasedExpenseLineDetail: { AccountRef: ref(SEEDED_ACCOUNTS.advertising) },
});
const salesLine = (item: string, amount: number) => ({
  Amount: amount,
  DetailType: 'SalesItemLineDetail',
  SalesItemLineDetail: { ItemRef: ref(item), TaxCodeRef: ref('NON') },
});
const note = { PrivateNote: 'changed by the sample' };

/** SalesReceipt and RefundReceipt: a sale (or refund) to a customer, paid into Checking. */
const receipt = (entity: 'SalesReceipt' | 'RefundReceipt', amount: number, end: SampleEnd): EntitySample => ({
  entity,
  create: (r) => ({
    CustomerRef: ref(r.customer),
    Line: [salesLine(r.item, amount)],
    DepositToAccountRef: ref(SEEDED_ACCOUNTS.checking),
  }),
  update: note,
  end,
});

/** One valid create per entity beyond the first six (TaxCode is read-only), with an update and an end. */
export const ENTITY_SAMPLES: readonly EntitySample[] = [
  {
    entity: 'Bill',
    create: (r) => ({ VendorRef: ref(r.vendor), Line: [expenseLine(120)] }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'BillPayment',
    create: (r) => ({
      VendorRef: ref(r.vendor),
      PayType: 'Check',
      TotalAmt: 50,
      CheckPayment: { BankAccountRef: ref(SEEDED_ACCOUNTS.checking) },
    }),
    update: note,
    end: 'void',
  },
  {
    entity: 'JournalEntry',
    create: () => ({
      Line: [
        {
          Amount: 75,
          DetailType: 'JournalEntryLineDetail',
          JournalEntryLineDetail: { PostingType: 'Debit', AccountRef: ref(SEEDED_ACCOUNTS.advertising) },
        },
        {
          Amount: 75,
          DetailType: 'JournalEntryLineDetail',
          JournalEntryLineDetail: { PostingType: 'Credit', AccountRef: ref(SEEDED_ACCOUNTS.checking) },
        },
      ],
    }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'Estimate',
    create: (r) => ({ CustomerRef: ref(r.customer), Line: [salesLine(r.item, 200)] }),
    update: { TxnStatus: 'Accepted' },
    end: 'delete',
  },
  receipt('SalesReceipt', 90, 'void'),
  {
    entity: 'CreditMemo',
    create: (r) => ({ CustomerRef: ref(r.customer), Line: [salesLine(r.item, 40)] }),
    update: note,
    end: 'delete',
  },
  receipt('RefundReceipt', 30, 'delete'),
  {
    entity: 'Purchase',
    create: (r) => ({
      AccountRef: ref(SEEDED_ACCOUNTS.checking),
      PaymentType: 'Cash',
      EntityRef: { value: r.vendor, type: 'Vendor' },
      Line: [expenseLine(60)],
    }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'Deposit',
    create: () => ({
      DepositToAccountRef: ref(SEEDED_ACCOUNTS.checking),
      Line: [
        {
          Amount: 300,
          DetailType: 'DepositLineDetail',
          DepositLineDetail: { AccountRef: ref(SEEDED_ACCOUNTS.services) },
        },
      ],
    }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'Transfer',
    create: () => ({
      FromAccountRef: ref(SEEDED_ACCOUNTS.checking),
      ToAccountRef: ref(SEEDED_ACCOUNTS.savings),
      Amount: 500,
    }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'VendorCredit',
    create: (r) => ({ VendorRef: ref(r.vendor), Line: [expenseLine(25)] }),
    update: note,
    end: 'delete',
  },
  {
    entity: 'PurchaseOrder',
    create: (r) => ({
      VendorRef: ref(r.vendor),
      Line: [
        {
          Amount: 80,
          DetailType: 'ItemBasedExpenseLineDetail',
          ItemBasedExpenseLineDetail: { ItemRef: ref(r.item), Qty: 2, UnitPrice: 40 },
        },
      ],
    }),
    update: { POStatus: 'Closed' },
    end: 'delete',
  },
  {
    entity: 'Employee',
    create: () => ({ GivenName: 'Ada', FamilyName: 'Sample' }),
    update: { EmployeeNumber: 'E-7' },
    end: 'deactivate',
  },
  { entity: 'Class', create: () => ({ Name: 'Retail' }), update: { Name: 'Retail West' }, end: 'deactivate' },
  {
    entity: 'Department',
    create: () => ({ Name: 'North' }),
    update: { Name: 'North East' },
    end: 'deactivate',
  },
  {
    entity: 'Term',
    create: () => ({ Name: 'Net 15', DueDays: 15 }),
    update: { DueDays: 20 },
    end: 'deactivate',
  },
  {
    entity: 'PaymentMethod',
    create: () => ({ Name: 'Gift card' }),
    update: { Type: 'CREDIT_CARD' },
    end: 'deactivate',
  },
];
