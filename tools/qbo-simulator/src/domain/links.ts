import { formatMetaTime } from '../qbo-time.js';
import type { ChangeEvent, Company } from './company.js';
import { cents } from './entities/common.js';
import type { QboObject, Row } from './entities/types.js';

/** Which customer a transaction's balance counts against, and by how much. */
export function contributionOf(row: Row | undefined): { customerId: string; amount: number } | undefined {
  if (!row || row.deleted) return undefined;
  const ref = row.data.CustomerRef as { value?: string } | undefined;
  if (!ref?.value) return undefined;
  if (row.entity === 'Invoice') return { customerId: ref.value, amount: Number(row.data.Balance ?? 0) };
  if (row.entity === 'Payment') return { customerId: ref.value, amount: -Number(row.data.UnappliedAmt ?? 0) };
  return undefined;
}

export type Contribution = ReturnType<typeof contributionOf>;

/**
 * Moves a customer's Balance by what a transaction write changed. Balance is computed by QuickBooks, so
 * the customer's SyncToken and LastUpdatedTime stay as they are.
 */
export function adjustCustomerBalances(company: Company, before: Contribution, after: Contribution): void {
  const table = company.tables.Customer;
  const apply = (customerId: string, delta: number) => {
    if (delta === 0) return;
    const row = table.get(customerId);
    if (!row || row.deleted) return;
    const balance = cents(Number(row.data.Balance ?? 0) + delta);
    table.replace(row, { ...row.data, Balance: balance, BalanceWithJobs: balance }, undefined);
  };
  if (before) apply(before.customerId, -before.amount);
  if (after) apply(after.customerId, after.amount);
}

export function paymentLinks(data: QboObject | undefined): Map<string, number> {
  const links = new Map<string, number>();
  const lines = Array.isArray(data?.Line) ? (data.Line as QboObject[]) : [];
  for (const line of lines) {
    for (const link of (line.LinkedTxn as QboObject[] | undefined) ?? []) {
      const id = String(link.TxnId);
      links.set(id, cents((links.get(id) ?? 0) + Number(line.Amount ?? 0)));
    }
  }
  return links;
}

/**
 * Re-applies one payment's lines to the invoices they name: the invoices' Balance and LinkedTxn change, so
 * QuickBooks saves them as new versions (SyncToken + 1, an Update event).
 */
export function relinkPayment(
  company: Company,
  paymentId: string,
  before: Map<string, number>,
  after: Map<string, number>,
  now: number,
): ChangeEvent[] {
  const touched = new Set([...before.keys(), ...after.keys()]);
  for (const invoiceId of touched) {
    const applied = company.applied.get(invoiceId) ?? new Map<string, number>();
    const amount = after.get(invoiceId);
    if (amount === undefined) applied.delete(paymentId);
    else applied.set(paymentId, amount);
    if (applied.size === 0) company.applied.delete(invoiceId);
    else company.applied.set(invoiceId, applied);
  }
  const events: ChangeEvent[] = [];
  for (const invoiceId of touched) {
    const row = company.tables.Invoice.get(invoiceId);
    if (!row || row.deleted) continue;
    const payments = [...(company.applied.get(invoiceId)?.keys() ?? [])];
    const total = Number(row.data.TotalAmt ?? 0);
    const balance = cents(Math.max(0, total - company.appliedToInvoice(invoiceId)));
    const linked = payments.map((id) => ({ TxnId: id, TxnType: 'Payment' }));
    if (balance === row.data.Balance && JSON.stringify(linked) === JSON.stringify(row.data.LinkedTxn ?? []))
      continue;
    const beforeContribution = contributionOf(row);
    const metaData = row.data.MetaData as QboObject;
    company.tables.Invoice.replace(
      row,
      {
        ...row.data,
        LinkedTxn: linked,
        Balance: balance,
        SyncToken: String(Number(row.data.SyncToken) + 1),
        MetaData: { ...metaData, LastUpdatedTime: formatMetaTime(now) },
      },
      now,
    );
    adjustCustomerBalances(company, beforeContribution, contributionOf(row));
    events.push({
      realmId: company.realmId,
      entity: 'Invoice',
      id: invoiceId,
      operation: 'Update',
      updatedMs: now,
    });
  }
  return events;
}
