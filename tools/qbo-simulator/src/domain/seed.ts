import { addDays, formatMetaTime, formatPacificDate } from '../qbo-time.js';
import { createRandom, type Random } from '../random.js';
import type { Company } from './company.js';
import { ACCOUNT_TYPES } from './entities/account.js';
import { cents, USD } from './entities/common.js';
import { invoiceDefaults } from './entities/invoice.js';
import type { EntityName, QboObject, Row } from './entities/types.js';
import { address, CHART, FAMILY, GIVEN, GOODS, TRADES, uniqueName } from './seed-data.js';

/** The entities seeding fills; the others start empty (Account gets the chart, TaxCode two codes). */
export const SEEDED_ENTITIES = ['Customer', 'Vendor', 'Item', 'Invoice', 'Payment'] as const;
export type SeedCounts = Partial<Record<(typeof SEEDED_ENTITIES)[number], number>>;

const DAY = 86_400_000;
/** How `records` per company splits across entities when counts are not given one by one. */
export function splitRecords(records: number): SeedCounts {
  return {
    Customer: Math.ceil(records * 0.4),
    Vendor: Math.ceil(records * 0.1),
    Item: Math.ceil(records * 0.05),
    Invoice: Math.floor(records * 0.3),
    Payment: Math.floor(records * 0.15),
  };
}

interface Builder {
  company: Company;
  random: Random;
  /** Records are spread from a year before `anchor` up to shortly before it, in Id order. */
  anchor: number;
}

function times(b: Builder, index: number, count: number): { created: number; updated: number } {
  const after = b.anchor - 365 * DAY;
  const span = b.anchor - DAY - after;
  const created = Math.floor(after + (span * (index + b.random.next())) / Math.max(1, count));
  const updated =
    b.random.next() < 0.3 ? Math.min(b.anchor - 60_000, created + b.random.int(30 * DAY)) : created;
  return { created, updated };
}

function row(entity: EntityName, id: number, data: QboObject, created: number, updated: number): Row {
  return {
    entity,
    id: String(id),
    idNum: id,
    json: undefined,
    createdMs: created,
    updatedMs: updated,
    deleted: false,
    data: {
      ...data,
      domain: 'QBO',
      sparse: false,
      Id: String(id),
      SyncToken: updated > created ? '1' : '0',
      MetaData: { CreateTime: formatMetaTime(created), LastUpdatedTime: formatMetaTime(updated) },
    },
  };
}

/**
 * Fills a company with realistic records from a seed: the same seed and anchor give the same data. Rows are
 * built in bulk (no per-record write path), with invoice balances, payment links and customer balances
 * consistent with each other. Seeding fires no webhooks: it is the state before anyone watched.
 */
export function seedCompany(company: Company, seed: number, counts: SeedCounts, anchor: number): void {
  const b: Builder = { company, random: createRandom(seed), anchor };
  const partyNames = new Map<string, number>();

  const accounts = CHART.map(([name, type], i) => {
    const [classification, subType] = ACCOUNT_TYPES[type] as readonly [string, string];
    return row(
      'Account',
      i + 1,
      {
        Name: name,
        SubAccount: false,
        FullyQualifiedName: name,
        Active: true,
        Classification: classification,
        AccountType: type,
        AccountSubType: subType,
        CurrentBalance: 0,
        CurrentBalanceWithSubAccounts: 0,
        CurrencyRef: USD,
      },
      anchor - 400 * DAY,
      anchor - 400 * DAY,
    );
  });
  company.tables.Account.load(accounts);
  const income = accounts[9] as Row;

  const itemNames = new Map<string, number>();
  const items: Row[] = [];
  const itemCount = counts.Item ?? 0;
  for (let i = 0; i < itemCount; i++) {
    const { created, updated } = times(b, i, itemCount);
    const name = uniqueName(itemNames, b.random.pick(GOODS));
    items.push(
      row(
        'Item',
        i + 1,
        {
          Name: name,
          Description: `${name} service`,
          Active: true,
          FullyQualifiedName: name,
          Taxable: false,
          UnitPrice: 5 * (1 + b.random.int(40)),
          Type: 'Service',
          IncomeAccountRef: { value: income.id, name: income.data.Name },
          PurchaseCost: 0,
          TrackQtyOnHand: false,
        },
        created,
        updated,
      ),
    );
  }
  company.tables.Item.load(items);

  const customers: Row[] = [];
  const customerCount = counts.Customer ?? 0;
  for (let i = 0; i < customerCount; i++) {
    const { created, updated } = times(b, i, customerCount);
    const given = b.random.pick(GIVEN);
    const family = b.random.pick(FAMILY);
    const business = b.random.next() < 0.5;
    const display = uniqueName(
      partyNames,
      business ? `${family}'s ${b.random.pick(TRADES)}` : `${given} ${family}`,
    );
    const id = i + 1;
    customers.push(
      row(
        'Customer',
        id,
        {
          Taxable: false,
          Job: false,
          BillWithParent: false,
          PreferredDeliveryMethod: 'Print',
          ...(business ? { CompanyName: display } : {}),
          GivenName: given,
          FamilyName: family,
          DisplayName: display,
          PrintOnCheckName: display,
          FullyQualifiedName: display,
          Active: b.random.next() > 0.05,
          PrimaryEmailAddr: { Address: `${given.toLowerCase()}.${id}@example.com` },
          PrimaryPhone: { FreeFormNumber: `(650) 555-${String(1000 + (id % 9000))}` },
          BillAddr: address(b.random, id),
          CurrencyRef: USD,
          Balance: 0,
          BalanceWithJobs: 0,
        },
        created,
        updated,
      ),
    );
  }

  const vendors: Row[] = [];
  const vendorCount = counts.Vendor ?? 0;
  for (let i = 0; i < vendorCount; i++) {
    const { created, updated } = times(b, i, vendorCount);
    const display = uniqueName(partyNames, `${b.random.pick(FAMILY)} ${b.random.pick(TRADES)} Supply`);
    vendors.push(
      row(
        'Vendor',
        i + 1,
        {
          Vendor1099: false,
          CompanyName: display,
          DisplayName: display,
          PrintOnCheckName: display,
          Active: true,
          BillAddr: address(b.random, i + 1),
          CurrencyRef: USD,
          Balance: 0,
        },
        created,
        updated,
      ),
    );
  }
  company.tables.Vendor.load(vendors);

  const invoices: Row[] = [];
  const invoiceCount = items.length > 0 && customers.length > 0 ? (counts.Invoice ?? 0) : 0;
  for (let i = 0; i < invoiceCount; i++) {
    const { created, updated } = times(b, i, invoiceCount);
    const customer = b.random.pick(customers);
    const lines: QboObject[] = [];
    let total = 0;
    for (let n = 1 + b.random.int(3); lines.length < n; ) {
      const it = b.random.pick(items);
      const qty = 1 + b.random.int(10);
      const price = it.data.UnitPrice as number;
      const amount = cents(qty * price);
      total += amount;
      lines.push({
        Id: String(lines.length + 1),
        LineNum: lines.length + 1,
        Amount: amount,
        DetailType: 'SalesItemLineDetail',
        SalesItemLineDetail: {
          ItemRef: { value: it.id, name: it.data.Name },
          Qty: qty,
          UnitPrice: price,
          TaxCodeRef: { value: 'NON' },
        },
      });
    }
    total = cents(total);
    lines.push({ Amount: total, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} });
    const txnDate = formatPacificDate(created);
    invoices.push(
      row(
        'Invoice',
        i + 1,
        {
          ...invoiceDefaults(),
          DocNumber: String(1001 + i),
          TxnDate: txnDate,
          DueDate: addDays(txnDate, 30),
          CurrencyRef: USD,
          CustomerRef: { value: customer.id, name: customer.data.DisplayName },
          Line: lines,
          LinkedTxn: [],
          TotalAmt: total,
          Balance: total,
        },
        created,
        updated,
      ),
    );
  }
  company.reserveDocNumbers(1000 + invoiceCount);

  const payments: Row[] = [];
  const paymentCount = invoices.length > 0 ? Math.min(counts.Payment ?? 0, invoices.length) : 0;
  const paidInvoices = new Set<number>();
  for (let i = 0; i < paymentCount; i++) {
    let index = b.random.int(invoices.length);
    while (paidInvoices.has(index)) index = (index + 1) % invoices.length;
    paidInvoices.add(index);
    const inv = invoices[index] as Row;
    const room = Math.max(0, Math.min(30 * DAY, anchor - 60_000 - inv.updatedMs));
    const created = inv.updatedMs + b.random.int(room + 1);
    const updated = created;
    const amount = inv.data.TotalAmt as number;
    const id = i + 1;
    payments.push(
      row(
        'Payment',
        id,
        {
          ProcessPayment: false,
          TxnDate: formatPacificDate(created),
          CurrencyRef: USD,
          CustomerRef: inv.data.CustomerRef,
          TotalAmt: amount,
          UnappliedAmt: 0,
          Line: [{ Amount: amount, LinkedTxn: [{ TxnId: inv.id, TxnType: 'Invoice' }] }],
        },
        created,
        updated,
      ),
    );
    company.applied.set(inv.id, new Map([[String(id), amount]]));
    // Applying a payment saves the invoice again, so its version and LastUpdatedTime follow the payment's.
    const syncToken = String(Number(inv.data.SyncToken) + 1);
    inv.updatedMs = Math.max(inv.updatedMs, created);
    inv.data = {
      ...inv.data,
      Balance: 0,
      LinkedTxn: [{ TxnId: String(id), TxnType: 'Payment' }],
      SyncToken: syncToken,
      MetaData: { ...(inv.data.MetaData as QboObject), LastUpdatedTime: formatMetaTime(inv.updatedMs) },
    };
  }

  const balances = new Map<string, number>();
  for (const inv of invoices) {
    const ref = (inv.data.CustomerRef as { value: string }).value;
    balances.set(ref, (balances.get(ref) ?? 0) + (inv.data.Balance as number));
  }
  for (const c of customers) {
    const balance = cents(balances.get(c.id) ?? 0);
    const active = balance === 0 ? c.data.Active : true;
    const display = active ? c.data.DisplayName : `${String(c.data.DisplayName)} (deleted)`;
    c.data = {
      ...c.data,
      Active: active,
      DisplayName: display,
      FullyQualifiedName: display,
      Balance: balance,
      BalanceWithJobs: balance,
    };
  }
  company.tables.Customer.load(customers);
  company.tables.Invoice.load(invoices);
  company.tables.Payment.load(payments);
  // Serialised now, while seeding, so a sync's first full read costs what later reads cost.
  for (const table of Object.values(company.tables)) {
    for (const r of table.idOrder) {
      company.indexName(r, undefined);
      r.json = JSON.stringify(r.data);
    }
  }
}

/** A deterministic realm id above 2^53, so a client that parses it as a number visibly breaks (§1.3). */
export function realmIdFor(random: Random, taken: (id: string) => boolean): string {
  for (;;) {
    const id = `9130${String(random.int(1_000_000) * 1_000_000 + random.int(1_000_000)).padStart(12, '0')}`;
    if (!taken(id)) return id;
  }
}
