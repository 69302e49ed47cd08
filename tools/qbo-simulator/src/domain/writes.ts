import { DEFAULT_POLICIES, type Policies } from '../policies.js';
import { formatMetaTime } from '../qbo-time.js';
import type { ChangeEvent, ChangeOperation, Company } from './company.js';
import { cents, isRecord, withActiveSuffix } from './entities/common.js';
import { nameOf, relinkRefs } from './entities/refs.js';
import type { EntityDef, EntityName, QboObject, Row } from './entities/types.js';
import { faults } from './fault.js';
import { adjustCustomerBalances, contributionOf, paymentLinks, relinkPayment } from './links.js';

/** What a write answers (`{"Customer": {...}}`) and the changes it made, for webhooks. */
export interface WriteResult {
  entity: EntityName;
  body: QboObject;
  events: ChangeEvent[];
}

const SYSTEM_FIELDS = ['Id', 'SyncToken', 'sparse', 'domain', 'MetaData', 'status'];

function checkProperties(def: EntityDef, input: QboObject): void {
  for (const key of Object.keys(input)) {
    if (SYSTEM_FIELDS.includes(key) || def.writable.includes(key) || def.readOnly.includes(key)) continue;
    throw faults.invalidProperty(
      `Property Name:Unrecognized field "${key}" (class com.intuit.schema.finance.v3.${def.name}), not marked as ignorable specified is unsupported or invalid`,
    );
  }
}

const pickWritable = (def: EntityDef, data: QboObject): QboObject =>
  Object.fromEntries(Object.entries(data).filter(([k]) => def.writable.includes(k)));

function envelope(
  data: QboObject,
  id: string,
  syncToken: number,
  createdMs: number,
  updatedMs: number,
): QboObject {
  return {
    ...data,
    domain: 'QBO',
    sparse: false,
    Id: id,
    SyncToken: String(syncToken),
    MetaData: { CreateTime: formatMetaTime(createdMs), LastUpdatedTime: formatMetaTime(updatedMs) },
  };
}

/** The current, live version named by `Id` + `SyncToken`: Object Not Found or Stale Object otherwise. */
function current(company: Company, def: EntityDef, input: QboObject): Row {
  if (input.Id === undefined || input.Id === '') throw faults.required('Id');
  if (input.SyncToken === undefined || input.SyncToken === '') throw faults.required('SyncToken');
  const row = company.visible(def.name, String(input.Id));
  if (!row || row.deleted) throw faults.notFound();
  if (String(input.SyncToken) !== row.data.SyncToken) throw faults.stale();
  return row;
}

function checkName(company: Company, def: EntityDef, data: QboObject, self: Row | undefined): void {
  if (!def.unique) return;
  const owner = company.nameOwner(def.name, data[def.unique.field]);
  if (owner && owner !== self) throw faults.duplicateName();
}

function event(
  company: Company,
  entity: EntityName,
  id: string,
  operation: ChangeOperation,
  now: number,
): ChangeEvent {
  return { realmId: company.realmId, entity, id, operation, updatedMs: now };
}

/** Side effects a transaction write has on other records: invoice balances and customer balances. */
function afterTransactionWrite(
  company: Company,
  row: Row,
  beforeData: QboObject | undefined,
  beforeContribution: ReturnType<typeof contributionOf>,
  now: number,
): ChangeEvent[] {
  adjustCustomerBalances(company, beforeContribution, contributionOf(row));
  if (row.entity !== 'Payment') return [];
  const after = row.deleted ? new Map<string, number>() : paymentLinks(row.data);
  return relinkPayment(company, row.id, paymentLinks(beforeData), after, now);
}

/** Read-only entities (TaxCode) refuse every write. */
function checkWritable(def: EntityDef, operation: string): void {
  if (!def.apiWritable) throw faults.unsupportedOperation(operation);
}

export function createRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
  checkWritable(def, 'Create');
  checkProperties(def, input);
  const data = def.normalize(pickWritable(def, input), company.lookup(now), undefined);
  checkName(company, def, data, undefined);
  const table = company.tables[def.name];
  const id = table.nextId();
  const row = table.insert(id, envelope(data, id, 0, now, now), now);
  company.indexName(row, undefined);
  const events = [event(company, def.name, id, 'Create', now)];
  if (def.kind === 'transaction')
    events.push(...afterTransactionWrite(company, row, undefined, undefined, now));
  return { entity: def.name, body: row.data, events };
}

/**
 * Full update replaces every writable field (omitted ones are cleared); sparse update changes only the
 * fields sent (qbo-api-facts §4.3). Either way the SyncToken must match and grows by exactly one.
 */
export function updateRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
  checkWritable(def, 'Update');
  checkProperties(def, input);
  const row = current(company, def, input);
  const sparse = input.sparse === true || input.sparse === 'true';
  const merged = sparse
    ? { ...pickWritable(def, row.data), ...pickWritable(def, input) }
    : pickWritable(def, input);
  const data = def.normalize(merged, company.lookup(now), row);
  checkName(company, def, data, row);
  const deactivating = row.data.Active === true && data.Active === false;
  if (deactivating && typeof row.data.Balance === 'number' && row.data.Balance !== 0) {
    throw faults.businessValidation(
      `Delete List Has Balance Error: ${String(row.data.DisplayName)} cannot be deleted because it has a non-zero balance`,
    );
  }
  const beforeData = row.data;
  const beforeContribution = contributionOf(row);
  const previousName = def.unique ? row.data[def.unique.field] : undefined;
  company.tables[def.name].replace(
    row,
    envelope(data, row.id, Number(row.data.SyncToken) + 1, row.createdMs, now),
    now,
  );
  company.indexName(row, previousName);
  // Making a name-list record inactive is how it is "deleted" (qbo-api-facts §7.5).
  const events = [event(company, def.name, row.id, deactivating ? 'Delete' : 'Update', now)];
  if (def.kind === 'transaction')
    events.push(...afterTransactionWrite(company, row, beforeData, beforeContribution, now));
  return { entity: def.name, body: row.data, events };
}

/** Transactions only: the record becomes a tombstone that CDC reports as `status: "Deleted"`. */
export function deleteRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
  if (!def.deletable) throw faults.unsupportedOperation('Delete');
  const row = current(company, def, input);
  if (def.name === 'Invoice' && (company.applied.get(row.id)?.size ?? 0) > 0) {
    throw faults.businessValidation(
      'Business Validation Error: This transaction is linked to other transactions. Unlink them before deleting it.',
    );
  }
  const beforeData = row.data;
  const beforeContribution = contributionOf(row);
  company.tables[def.name].replace(
    row,
    { domain: 'QBO', status: 'Deleted', Id: row.id, MetaData: { LastUpdatedTime: formatMetaTime(now) } },
    now,
    true,
  );
  const events = [event(company, def.name, row.id, 'Delete', now)];
  events.push(...afterTransactionWrite(company, row, beforeData, beforeContribution, now));
  return { entity: def.name, body: { status: 'Deleted', domain: 'QBO', Id: row.id }, events };
}

const zeroLine = (line: unknown) =>
  isRecord(line) && typeof line.Amount === 'number' ? { ...line, Amount: 0 } : line;

/** Amounts a void zeroes, wherever the entity has them. */
const VOIDED_AMOUNTS = ['TotalAmt', 'Balance', 'UnappliedAmt', 'HomeTotalAmt', 'HomeBalance', 'Amount'];
/** Payments lose their lines (the links to what they paid); other transactions keep zero-amount lines. */
const DROPS_LINES: readonly EntityName[] = ['Payment', 'BillPayment'];

/**
 * Void keeps the record but zeroes its amounts and notes it; there is no status field (qbo-api-facts §4.3,
 * sync-research §1.7).
 */
export function voidRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
  if (!def.canVoid) throw faults.unsupportedOperation('Void');
  const row = current(company, def, input);
  const beforeData = row.data;
  const beforeContribution = contributionOf(row);
  const note =
    typeof row.data.PrivateNote === 'string' && row.data.PrivateNote !== '' ? row.data.PrivateNote : '';
  const amounts = Object.fromEntries(
    VOIDED_AMOUNTS.filter((k) => typeof row.data[k] === 'number').map((k) => [k, 0]),
  );
  const lines = Array.isArray(row.data.Line)
    ? { Line: DROPS_LINES.includes(def.name) ? [] : row.data.Line.map(zeroLine) }
    : {};
  const voidedNote = note.startsWith('Voided') ? note : note === '' ? 'Voided' : `Voided - ${note}`;
  newVersion(company, row, { ...row.data, ...lines, ...amounts, PrivateNote: voidedNote }, now);
  const events = [event(company, def.name, row.id, 'Void', now)];
  events.push(...afterTransactionWrite(company, row, beforeData, beforeContribution, now));
  return { entity: def.name, body: row.data, events };
}

/** A new version of a row: SyncToken + 1 and LastUpdatedTime now. */
function newVersion(company: Company, row: Row, data: QboObject, now: number): void {
  company.tables[row.entity].replace(
    row,
    {
      ...data,
      SyncToken: String(Number(row.data.SyncToken) + 1),
      MetaData: { ...(row.data.MetaData as QboObject), LastUpdatedTime: formatMetaTime(now) },
    },
    now,
  );
}

/** Every record that names `from` through a `*Ref` now names `into` (refs.ts says which refs point where). */
function relinkAll(company: Company, def: EntityDef, from: Row, into: Row, policy: MergePolicy, now: number) {
  const events: ChangeEvent[] = [];
  const target = { id: into.id, name: nameOf(into.data) };
  for (const table of Object.values(company.tables)) {
    for (const row of table.idOrder) {
      if (row.deleted || row === from || row === into) continue;
      const { data, changed } = relinkRefs(row.data, def.name, from.id, target);
      if (!changed) continue;
      if (policy.mergeRelink === 'silent') {
        table.replace(row, data, undefined);
        continue;
      }
      newVersion(company, row, data, now);
      events.push(event(company, row.entity, row.id, 'Update', now));
    }
  }
  return events;
}

export type MergePolicy = Pick<Policies, 'mergeLoser' | 'mergeRelink'>;

/**
 * What a user's merge in QuickBooks does to a name list (no API call does this): the merged-away record
 * goes (a tombstone, or inactive: `policy.mergeLoser`), records that named it name the survivor
 * (`policy.mergeRelink` says whether they become new versions), its balance moves to the survivor, and one
 * Merge event carries both ids (qbo-api-facts §7.3, §7.4; sync-research §1.8, §6).
 */
export function mergeRecords(
  company: Company,
  def: EntityDef,
  fromId: string,
  intoId: string,
  now: number,
  policy: MergePolicy = DEFAULT_POLICIES,
): WriteResult {
  if (def.kind !== 'name-list' || !def.apiWritable || fromId === intoId)
    throw faults.unsupportedOperation('Merge');
  const from = company.find(def.name, fromId);
  const into = company.find(def.name, intoId);
  if (!from || from.deleted || !into || into.deleted) throw faults.notFound();
  const events = relinkAll(company, def, from, into, policy, now);
  const fromName = def.unique ? from.data[def.unique.field] : undefined;
  const fromBalance = Number(from.data.Balance ?? 0);
  if (policy.mergeLoser === 'deleted') {
    company.tables[def.name].replace(
      from,
      { domain: 'QBO', status: 'Deleted', Id: from.id, MetaData: { LastUpdatedTime: formatMetaTime(now) } },
      now,
      true,
    );
  } else {
    const field = def.unique?.field;
    const name = field && typeof from.data[field] === 'string' ? (from.data[field] as string) : undefined;
    const renamed = field && name !== undefined ? { [field]: withActiveSuffix(name, false) } : {};
    const zero = typeof from.data.Balance === 'number' ? { Balance: 0 } : {};
    const zeroJobs = typeof from.data.BalanceWithJobs === 'number' ? { BalanceWithJobs: 0 } : {};
    newVersion(company, from, { ...from.data, ...renamed, ...zero, ...zeroJobs, Active: false }, now);
  }
  company.indexName(from, fromName);
  const balance = cents(Number(into.data.Balance ?? 0) + fromBalance);
  newVersion(
    company,
    into,
    {
      ...into.data,
      ...(typeof into.data.Balance === 'number' ? { Balance: balance } : {}),
      ...(typeof into.data.BalanceWithJobs === 'number' ? { BalanceWithJobs: balance } : {}),
    },
    now,
  );
  events.unshift({ ...event(company, def.name, intoId, 'Merge', now), deletedId: fromId });
  return { entity: def.name, body: into.data, events };
}
