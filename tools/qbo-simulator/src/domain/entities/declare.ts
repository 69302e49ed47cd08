import { formatPacificDate } from '../../qbo-time.js';
import { faults } from '../fault.js';
import { asNumber, cents, compact, isRecord, USD, withActiveSuffix } from './common.js';
import { normalizeParty } from './party.js';
import { resolveRefs } from './refs.js';
import type { EntityDef, EntityLookup, EntityName, FieldSpec, QboObject, Row } from './types.js';

/**
 * One entity as a row of data: its kind, queryable fields, writable and read-only properties, what a create
 * must carry, and how it can go away. `declareEntity` turns it into the EntityDef every surface uses; an
 * entity whose rules do not fit the table (the first six) brings its own `normalize`.
 */
export interface EntityDeclaration {
  name: EntityName;
  kind: 'name-list' | 'transaction';
  fields: Readonly<Record<string, FieldSpec>>;
  writable: readonly string[];
  readOnly?: readonly string[];
  /** Properties a create must carry (2020 otherwise). */
  required?: readonly string[];
  unique?: EntityDef['unique'];
  /** `operation=void` keeps the record with zero amounts (qbo-api-facts §4.3). */
  voidable?: boolean;
  /** Read and query only: writes answer Unsupported Operation (TaxCode). */
  readOnlyEntity?: boolean;
  /** CDC refuses it (qbo-api-facts §3). */
  noCdc?: boolean;
  /** `TotalAmt` is the sum of the line amounts (debits only for a journal entry). */
  totalFromLines?: boolean;
  /** An open balance equal to the total is kept in this property (`Balance`, `RemainingCredit`). */
  balanceField?: 'Balance' | 'RemainingCredit';
  /** A `DocNumber` is assigned when the create leaves it out. */
  docNumber?: boolean;
  /** Values QuickBooks fills when the request leaves them out. */
  defaults?: QboObject;
  /** A business rule beyond required fields and refs; throws a QboFault. */
  check?: (data: QboObject) => void;
  normalize?: EntityDef['normalize'];
}

function requireFields(decl: EntityDeclaration, input: QboObject): void {
  for (const field of decl.required ?? []) {
    const v = input[field];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) {
      throw faults.required(field);
    }
  }
}

const invalid = (param: string) =>
  faults.invalidProperty(`Property Name:${param} specified is unsupported or invalid`);

/** Numbers each line and checks its Amount; JournalEntry lines count only their debits toward the total. */
function normalizeLines(lines: unknown): { lines: QboObject[] | undefined; total: number } {
  if (lines === undefined) return { lines: undefined, total: 0 };
  if (!Array.isArray(lines)) throw invalid('Line');
  let total = 0;
  const out = lines.map((raw, i) => {
    if (!isRecord(raw)) throw invalid('Line');
    if (raw.Amount === undefined) throw faults.required('Amount');
    const amount = asNumber(raw.Amount, 'Amount');
    const detail = raw.JournalEntryLineDetail;
    const credit = isRecord(detail) && detail.PostingType === 'Credit';
    if (!credit) total += amount;
    return compact({ ...raw, Id: String(i + 1), LineNum: i + 1, Amount: amount });
  });
  return { lines: out, total: cents(total) };
}

function normalizeNameList(decl: EntityDeclaration, input: QboObject): QboObject {
  const active = input.Active === undefined ? true : input.Active === true || input.Active === 'true';
  if (decl.unique?.field === 'DisplayName') return { ...normalizeParty(input), Active: active };
  const name = typeof input.Name === 'string' ? input.Name.trim() : '';
  if (name === '') throw faults.required('Name');
  const fullName = withActiveSuffix(name, active);
  const qualified = decl.readOnly?.includes('FullyQualifiedName') ? { FullyQualifiedName: fullName } : {};
  return { ...input, Name: fullName, Active: active, ...qualified };
}

function normalizeTransaction(decl: EntityDeclaration, input: QboObject, lookup: EntityLookup): QboObject {
  const { lines, total } = normalizeLines(input.Line);
  const amounts: QboObject = {};
  if (decl.totalFromLines) amounts.TotalAmt = total;
  else if (input.TotalAmt !== undefined) amounts.TotalAmt = asNumber(input.TotalAmt, 'TotalAmt');
  if (input.Amount !== undefined) amounts.Amount = asNumber(input.Amount, 'Amount');
  if (decl.balanceField) amounts[decl.balanceField] = amounts.TotalAmt ?? 0;
  return {
    ...input,
    ...(lines ? { Line: lines } : {}),
    ...amounts,
    TxnDate: typeof input.TxnDate === 'string' ? input.TxnDate : formatPacificDate(lookup.now),
    ...(decl.docNumber
      ? { DocNumber: typeof input.DocNumber === 'string' ? input.DocNumber : lookup.nextDocNumber() }
      : {}),
    CurrencyRef: isRecord(input.CurrencyRef) ? input.CurrencyRef : USD,
  };
}

/** The rules every declared entity without its own normalizer follows. */
function genericNormalize(decl: EntityDeclaration) {
  return (input: QboObject, lookup: EntityLookup, _existing: Row | undefined): QboObject => {
    requireFields(decl, input);
    const withDefaults = { ...decl.defaults, ...resolveRefs(input, lookup) };
    const data =
      decl.kind === 'name-list'
        ? normalizeNameList(decl, withDefaults)
        : normalizeTransaction(decl, withDefaults, lookup);
    decl.check?.(data);
    return compact(data);
  };
}

export function declareEntity(decl: EntityDeclaration): EntityDef {
  const custom = decl.normalize;
  return {
    name: decl.name,
    path: decl.name.toLowerCase(),
    kind: decl.kind,
    fields: decl.fields,
    writable: decl.writable,
    readOnly: decl.readOnly ?? [],
    ...(decl.unique ? { unique: decl.unique } : {}),
    canVoid: decl.voidable === true,
    deletable: decl.kind === 'transaction' && decl.readOnlyEntity !== true,
    apiWritable: decl.readOnlyEntity !== true,
    cdc: decl.noCdc !== true,
    normalize: custom
      ? (input, lookup, existing) => {
          requireFields(decl, input);
          return custom(input, lookup, existing);
        }
      : genericNormalize(decl),
  };
}
