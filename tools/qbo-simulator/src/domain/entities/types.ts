/** Every entity the simulator serves: the six first ones, then the rest in the order of issue 15's list. */
export const ENTITY_NAMES = [
  'Customer',
  'Vendor',
  'Item',
  'Account',
  'Invoice',
  'Payment',
  'Bill',
  'BillPayment',
  'JournalEntry',
  'Estimate',
  'SalesReceipt',
  'CreditMemo',
  'RefundReceipt',
  'Purchase',
  'Deposit',
  'Transfer',
  'VendorCredit',
  'PurchaseOrder',
  'Employee',
  'Class',
  'Department',
  'Term',
  'PaymentMethod',
  'TaxCode',
] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

/** An entity as the API shows it: plain JSON, ids as strings, amounts as numbers, empty fields omitted. */
export type QboObject = Record<string, unknown>;

export type FieldType = 'id' | 'string' | 'number' | 'boolean' | 'datetime' | 'date' | 'ref';

/** A queryable property: `path` as the API spells it, `read` takes its value from a stored object. */
export interface FieldSpec {
  path: string;
  type: FieldType;
  sortable: boolean;
}

/** One stored version of one record, with what queries and CDC need beside the public JSON. */
export interface Row {
  readonly entity: EntityName;
  readonly id: string;
  readonly idNum: number;
  data: QboObject;
  /** The serialised `data`, built on first read and dropped on every write: paged reads stay cheap. */
  json: string | undefined;
  createdMs: number;
  updatedMs: number;
  /** A hard-deleted transaction (or a merged-away name): kept as a tombstone so CDC can report it. */
  deleted: boolean;
}

export interface EntityLookup {
  /** A record by id, as this write may see it (a batch item does not see earlier items' creates). */
  find(entity: EntityName, id: string): Row | undefined;
  /** Amount applied to an invoice by payments other than `exceptPaymentId`. */
  appliedToInvoice(invoiceId: string, exceptPaymentId?: string): number;
  nextDocNumber(): string;
  now: number;
}

export type NameScope =
  | 'party'
  | 'item'
  | 'account'
  | 'class'
  | 'department'
  | 'term'
  | 'paymentmethod'
  | 'taxcode';

export interface EntityDef {
  name: EntityName;
  /** The URL segment: `customer`, `invoice`. */
  path: string;
  /** Name lists are never deleted, only made inactive; transactions are deleted or voided. */
  kind: 'name-list' | 'transaction';
  /** Queryable properties keyed by lower-cased path. */
  fields: Readonly<Record<string, FieldSpec>>;
  writable: readonly string[];
  readOnly: readonly string[];
  /** The property that must be unique, and the namespace it is unique in. */
  unique?: { field: 'DisplayName' | 'Name'; scope: NameScope };
  canVoid: boolean;
  /** Transactions can be deleted (a tombstone stays for CDC); name lists only made inactive. */
  deletable: boolean;
  /** False for read-only entities (TaxCode): every write answers Unsupported Operation. */
  apiWritable: boolean;
  /** Whether CDC serves the entity (qbo-api-facts §3 lists the ones it refuses). */
  cdc: boolean;
  /** Fills defaults and derived fields of a create or update; throws a QboFault for invalid input. */
  normalize(input: QboObject, lookup: EntityLookup, existing: Row | undefined): QboObject;
}
