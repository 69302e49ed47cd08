import { formatPacificDate } from '../../qbo-time.js';
import { faults } from '../fault.js';
import { asNumber, cents, compact, fields, isRecord, resolveRef, USD } from './common.js';
import type { EntityDeclaration } from './declare.js';
import type { EntityLookup, QboObject } from './types.js';

const displayName = (d: QboObject) => d.DisplayName;

/** Each line applies an amount to one invoice through LinkedTxn (qbo-api-facts §4.2). */
function normalizeLines(lines: unknown, lookup: EntityLookup): { lines: QboObject[]; applied: number } {
  if (lines === undefined) return { lines: [], applied: 0 };
  if (!Array.isArray(lines))
    throw faults.invalidProperty('Property Name:Line specified is unsupported or invalid');
  let applied = 0;
  const out = lines.map((raw) => {
    if (!isRecord(raw))
      throw faults.invalidProperty('Property Name:Line specified is unsupported or invalid');
    if (raw.Amount === undefined) throw faults.required('Amount');
    const amount = asNumber(raw.Amount, 'Amount');
    const linked = Array.isArray(raw.LinkedTxn) ? raw.LinkedTxn : [];
    for (const link of linked) {
      if (!isRecord(link) || link.TxnType !== 'Invoice') {
        throw faults.invalidProperty('Property Name:LinkedTxn specified is unsupported or invalid');
      }
      const target = lookup.find('Invoice', String(link.TxnId));
      if (!target || target.deleted) throw faults.notFound();
    }
    applied += amount;
    return {
      Amount: amount,
      LinkedTxn: linked.map((l) => ({ TxnId: String((l as QboObject).TxnId), TxnType: 'Invoice' })),
    };
  });
  return { lines: out, applied: cents(applied) };
}

export const payment: EntityDeclaration = {
  name: 'Payment',
  kind: 'transaction',
  required: ['CustomerRef', 'TotalAmt'],
  fields: fields([
    ['TxnDate', 'date'],
    ['CustomerRef', 'ref'],
    ['TotalAmt', 'number'],
    ['PaymentRefNum', 'string'],
  ]),
  writable: [
    'CustomerRef',
    'TotalAmt',
    'Line',
    'TxnDate',
    'DepositToAccountRef',
    'PaymentMethodRef',
    'PaymentRefNum',
    'ARAccountRef',
    'PrivateNote',
    'CurrencyRef',
    'ProcessPayment',
  ],
  readOnly: ['UnappliedAmt'],
  voidable: true,
  normalize(input, lookup) {
    if (input.CustomerRef === undefined) throw faults.required('CustomerRef');
    if (input.TotalAmt === undefined) throw faults.required('TotalAmt');
    const customerRef = resolveRef(lookup, 'Customer', input.CustomerRef, 'CustomerRef', displayName);
    const total = asNumber(input.TotalAmt, 'TotalAmt');
    const { lines, applied } = normalizeLines(input.Line, lookup);
    if (applied > total + 0.005) {
      throw faults.businessValidation(
        'Business Validation Error: The amount applied to transactions is greater than the payment amount.',
      );
    }
    return compact({
      ProcessPayment: false,
      ...input,
      TxnDate: typeof input.TxnDate === 'string' ? input.TxnDate : formatPacificDate(lookup.now),
      CurrencyRef: isRecord(input.CurrencyRef) ? input.CurrencyRef : USD,
      CustomerRef: customerRef,
      TotalAmt: total,
      UnappliedAmt: cents(total - applied),
      Line: lines,
    });
  },
};
