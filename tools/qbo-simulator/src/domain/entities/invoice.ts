import { addDays, formatPacificDate } from '../../qbo-time.js';
import { faults } from '../fault.js';
import { asNumber, cents, compact, fields, isRecord, resolveRef, USD } from './common.js';
import type { EntityDeclaration } from './declare.js';
import type { EntityLookup, QboObject } from './types.js';

const displayName = (d: QboObject) => d.DisplayName;
const itemName = (d: QboObject) => d.Name;

/** Sales lines get Ids and LineNums; a SubTotal line is appended, as QuickBooks does on every save. */
function normalizeLines(lines: unknown, lookup: EntityLookup): { lines: QboObject[]; total: number } {
  if (!Array.isArray(lines) || lines.length === 0) throw faults.required('Line');
  const out: QboObject[] = [];
  let subtotal = 0;
  let discount = 0;
  for (const raw of lines) {
    if (!isRecord(raw))
      throw faults.invalidProperty('Property Name:Line specified is unsupported or invalid');
    const type = raw.DetailType;
    if (type === 'SubTotalLineDetail') continue;
    if (type === 'SalesItemLineDetail') {
      const detail = isRecord(raw.SalesItemLineDetail) ? raw.SalesItemLineDetail : {};
      const qty = detail.Qty === undefined ? undefined : asNumber(detail.Qty, 'Qty');
      const price = detail.UnitPrice === undefined ? undefined : asNumber(detail.UnitPrice, 'UnitPrice');
      const amount =
        raw.Amount !== undefined
          ? asNumber(raw.Amount, 'Amount')
          : price !== undefined
            ? cents((qty ?? 1) * price)
            : undefined;
      if (amount === undefined) throw faults.required('Amount');
      const itemRef =
        detail.ItemRef === undefined
          ? undefined
          : resolveRef(lookup, 'Item', detail.ItemRef, 'ItemRef', itemName);
      subtotal += amount;
      out.push(
        compact({
          Id: String(out.length + 1),
          LineNum: out.length + 1,
          Description: raw.Description,
          Amount: amount,
          DetailType: type,
          SalesItemLineDetail: compact({
            ...detail,
            ItemRef: itemRef,
            Qty: qty,
            UnitPrice: price,
            TaxCodeRef: detail.TaxCodeRef ?? { value: 'NON' },
          }),
        }),
      );
    } else if (type === 'DiscountLineDetail') {
      const amount = asNumber(raw.Amount ?? 0, 'Amount');
      discount += amount;
      out.push(compact({ ...raw, Id: String(out.length + 1), LineNum: out.length + 1, Amount: amount }));
    } else if (type === 'DescriptionOnly' || type === 'GroupLineDetail') {
      out.push(
        compact({ ...raw, Id: String(out.length + 1), LineNum: out.length + 1, Amount: raw.Amount ?? 0 }),
      );
    } else if (type === undefined) {
      throw faults.required('DetailType');
    } else {
      throw faults.invalidProperty('Property Name:DetailType specified is unsupported or invalid');
    }
  }
  out.push({ Amount: cents(subtotal), DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} });
  return { lines: out, total: cents(subtotal - discount) };
}

/** The fields QuickBooks fills on a new invoice when the request leaves them out (fresh objects each call). */
export const invoiceDefaults = () => ({
  AllowOnlineCreditCardPayment: false,
  AllowOnlineACHPayment: false,
  ApplyTaxAfterDiscount: false,
  EmailStatus: 'NotSet',
  PrintStatus: 'NotSet',
  Deposit: 0,
  TxnTaxDetail: { TotalTax: 0 },
});

export const invoice: EntityDeclaration = {
  name: 'Invoice',
  kind: 'transaction',
  required: ['CustomerRef'],
  fields: fields([
    ['DocNumber', 'string'],
    ['TxnDate', 'date'],
    ['DueDate', 'date'],
    ['CustomerRef', 'ref'],
    ['TotalAmt', 'number'],
    ['Balance', 'number'],
    ['EmailStatus', 'string'],
    ['PrintStatus', 'string'],
  ]),
  writable: [
    'CustomerRef',
    'Line',
    'TxnDate',
    'DueDate',
    'DocNumber',
    'Deposit',
    'CurrencyRef',
    'SalesTermRef',
    'BillEmail',
    'EmailStatus',
    'PrintStatus',
    'TxnTaxDetail',
    'CustomerMemo',
    'PrivateNote',
    'ApplyTaxAfterDiscount',
    'AllowOnlineCreditCardPayment',
    'AllowOnlineACHPayment',
    'BillAddr',
    'ShipAddr',
    'ShipDate',
    'TrackingNum',
  ],
  readOnly: ['TotalAmt', 'Balance', 'LinkedTxn', 'HomeBalance'],
  voidable: true,
  normalize(input, lookup, existing) {
    if (input.CustomerRef === undefined) throw faults.required('CustomerRef');
    const customerRef = resolveRef(lookup, 'Customer', input.CustomerRef, 'CustomerRef', displayName);
    const { lines, total } = normalizeLines(input.Line, lookup);
    const txnDate = typeof input.TxnDate === 'string' ? input.TxnDate : formatPacificDate(lookup.now);
    const applied = existing ? lookup.appliedToInvoice(existing.id) : 0;
    return compact({
      ...invoiceDefaults(),
      ...input,
      DocNumber: typeof input.DocNumber === 'string' ? input.DocNumber : lookup.nextDocNumber(),
      TxnDate: txnDate,
      DueDate: typeof input.DueDate === 'string' ? input.DueDate : addDays(txnDate, 30),
      CurrencyRef: isRecord(input.CurrencyRef) ? input.CurrencyRef : USD,
      CustomerRef: customerRef,
      Line: lines,
      LinkedTxn: existing?.data.LinkedTxn ?? [],
      TotalAmt: total,
      Balance: cents(Math.max(0, total - applied)),
    });
  },
};
