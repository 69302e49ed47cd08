import { AppError } from '@qbo/service-kit/errors';
/**
 * The QuickBooks entities the sync mirrors, declared once. Name lists are never hard-deleted (Intuit makes them
 * inactive, and hides inactive rows from queries that do not name `Active`); transactions are deleted or voided
 * (docs/qbo-api-facts.md §2.6, §4.3). Adding an entity to the sync is a line here and a name in SYNC_ENTITIES.
 */
export type EntityKind = 'name_list' | 'transaction';

export interface EntityDecl {
  name: string;
  kind: EntityKind;
  /** Whether Intuit's CDC reports it (§3: TaxCode, TaxRate, TimeActivity, JournalCode and TaxAgency are not). */
  cdc: boolean;
}

const nameList = (name: string, cdc = true): EntityDecl => ({ name, kind: 'name_list', cdc });
const transaction = (name: string): EntityDecl => ({ name, kind: 'transaction', cdc: true });

export const entityDecls: readonly EntityDecl[] = [
  nameList('Account'),
  nameList('Customer'),
  nameList('Vendor'),
  nameList('Item'),
  nameList('Employee'),
  nameList('Class'),
  nameList('Department'),
  nameList('Term'),
  nameList('PaymentMethod'),
  nameList('TaxCode', false),
  transaction('Invoice'),
  transaction('Payment'),
  transaction('Bill'),
  transaction('BillPayment'),
  transaction('JournalEntry'),
  transaction('Estimate'),
  transaction('SalesReceipt'),
  transaction('CreditMemo'),
  transaction('RefundReceipt'),
  transaction('Purchase'),
  transaction('Deposit'),
  transaction('Transfer'),
  transaction('VendorCredit'),
  transaction('PurchaseOrder'),
];

export const DEFAULT_SYNC_ENTITIES = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'] as const;

export class UnknownEntityError extends AppError {
  constructor(readonly names: readonly string[]) {
    super('unknown_entity', `not a declared QuickBooks entity: ${names.join(', ')}`, { status: 400 });
    this.name = 'UnknownEntityError';
  }
}

/** The declarations of the named entities, in the order given; unknown names are refused all at once. */
export function declsFor(names: readonly string[]): EntityDecl[] {
  const unknown = names.filter((n) => !entityDecls.some((d) => d.name === n));
  if (unknown.length > 0) throw new UnknownEntityError(unknown);
  return names.map((n) => entityDecls.find((d) => d.name === n) as EntityDecl);
}
