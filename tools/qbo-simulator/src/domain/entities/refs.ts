import { faults } from '../fault.js';
import { isRecord } from './common.js';
import type { EntityLookup, EntityName, QboObject } from './types.js';

/**
 * Which entity each `*Ref` property points at, wherever it appears (top level, lines, line details). One
 * table serves create-time checks and merges: a merge re-points every ref this table resolves.
 */
export const REF_TARGETS: Readonly<Record<string, EntityName>> = {
  CustomerRef: 'Customer',
  VendorRef: 'Vendor',
  EmployeeRef: 'Employee',
  ItemRef: 'Item',
  AccountRef: 'Account',
  APAccountRef: 'Account',
  ARAccountRef: 'Account',
  DepositToAccountRef: 'Account',
  FromAccountRef: 'Account',
  ToAccountRef: 'Account',
  BankAccountRef: 'Account',
  CCAccountRef: 'Account',
  IncomeAccountRef: 'Account',
  ExpenseAccountRef: 'Account',
  AssetAccountRef: 'Account',
  ClassRef: 'Class',
  DepartmentRef: 'Department',
  SalesTermRef: 'Term',
  TermRef: 'Term',
  PaymentMethodRef: 'PaymentMethod',
  TaxCodeRef: 'TaxCode',
};

const PARTY_TYPES: Readonly<Record<string, EntityName>> = {
  customer: 'Customer',
  vendor: 'Vendor',
  employee: 'Employee',
};

/** `EntityRef` names its entity by `type` on the ref (Purchase) or `Type` beside it (JournalEntry lines). */
function targetOf(key: string, ref: QboObject, parent: QboObject): EntityName | undefined {
  if (key !== 'EntityRef') return REF_TARGETS[key];
  const type = ref.type ?? parent.Type;
  return typeof type === 'string' ? PARTY_TYPES[type.toLowerCase()] : undefined;
}

/** `TaxCodeRef` may carry the pseudo codes `TAX` and `NON`, which are not records. */
const isPseudo = (entity: EntityName, value: string) => entity === 'TaxCode' && !/^\d+$/.test(value);

export const nameOf = (data: QboObject): unknown => data.DisplayName ?? data.FullyQualifiedName ?? data.Name;

type Visit = (ref: QboObject, entity: EntityName, key: string) => QboObject;

/** Rebuilds `value` with every known ref passed through `visit`; arrays and nested objects are walked. */
function walk(value: unknown, visit: Visit): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, visit));
  if (!isRecord(value)) return value;
  const out: QboObject = {};
  for (const [key, child] of Object.entries(value)) {
    const entity = key.endsWith('Ref') && isRecord(child) ? targetOf(key, child, value) : undefined;
    out[key] = entity && isRecord(child) ? visit(child, entity, key) : walk(child, visit);
  }
  return out;
}

/**
 * Checks every ref of a write against the company: a missing value is 2020, an unknown or deleted record
 * is Object Not Found (qbo-api-facts §4.3), and `name` is filled from the record.
 */
export function resolveRefs(input: QboObject, lookup: EntityLookup): QboObject {
  return walk(input, (ref, entity, key) => {
    if (ref.value === undefined || ref.value === '') throw faults.required(key);
    const id = String(ref.value);
    if (isPseudo(entity, id)) return { ...ref, value: id };
    const row = lookup.find(entity, id);
    if (!row || row.deleted) throw faults.notFound();
    const name = nameOf(row.data);
    return typeof name === 'string' ? { ...ref, value: id, name } : { ...ref, value: id };
  }) as QboObject;
}

/** Re-points refs to `entity` `fromId` at `intoId`; reports whether anything changed. */
export function relinkRefs(
  data: QboObject,
  entity: EntityName,
  fromId: string,
  into: { id: string; name: unknown },
): { data: QboObject; changed: boolean } {
  let changed = false;
  const out = walk(data, (ref, target) => {
    if (target !== entity || String(ref.value) !== fromId) return ref;
    changed = true;
    return typeof into.name === 'string'
      ? { ...ref, value: into.id, name: into.name }
      : { ...ref, value: into.id };
  }) as QboObject;
  return { data: changed ? out : data, changed };
}
