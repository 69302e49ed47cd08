import { formatMetaTime } from '../qbo-time.js';
import type { ChangeEvent, ChangeOperation, Company } from './company.js';
import { cents, isRecord } from './entities/common.js';
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
  const row = company.find(def.name, String(input.Id));
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

export function createRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
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
  if (def.kind === 'name-list') throw faults.unsupportedOperation('Delete');
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

/** Void keeps the record but zeroes its amounts and notes it (qbo-api-facts §4.3). */
export function voidRecord(company: Company, def: EntityDef, input: QboObject, now: number): WriteResult {
  if (!def.canVoid) throw faults.unsupportedOperation('Void');
  const row = current(company, def, input);
  const beforeData = row.data;
  const beforeContribution = contributionOf(row);
  const note =
    typeof row.data.PrivateNote === 'string' && row.data.PrivateNote !== '' ? row.data.PrivateNote : '';
  const lines = Array.isArray(row.data.Line) ? row.data.Line.map(zeroLine) : row.data.Line;
  const amounts =
    def.name === 'Invoice'
      ? { TotalAmt: 0, Balance: 0 }
      : { TotalAmt: 0, UnappliedAmt: 0, Line: [] as QboObject[] };
  const voided: QboObject = {
    ...row.data,
    Line: lines,
    ...amounts,
    PrivateNote: note.startsWith('Voided') ? note : note === '' ? 'Voided' : `Voided - ${note}`,
    SyncToken: String(Number(row.data.SyncToken) + 1),
    MetaData: { ...(row.data.MetaData as QboObject), LastUpdatedTime: formatMetaTime(now) },
  };
  company.tables[def.name].replace(row, voided, now);
  const events = [event(company, def.name, row.id, 'Void', now)];
  events.push(...afterTransactionWrite(company, row, beforeData, beforeContribution, now));
  return { entity: def.name, body: row.data, events };
}

/**
 * What a user's merge in QuickBooks does to a name list (no API call does this): the merged-away record
 * disappears, transactions that named it now name the survivor, and one Merge event carries both ids.
 */
export function mergeRecords(
  company: Company,
  def: EntityDef,
  fromId: string,
  intoId: string,
  now: number,
): WriteResult {
  if (def.kind !== 'name-list' || fromId === intoId) throw faults.unsupportedOperation('Merge');
  const from = company.find(def.name, fromId);
  const into = company.find(def.name, intoId);
  if (!from || from.deleted || !into || into.deleted) throw faults.notFound();
  const events: ChangeEvent[] = [];
  if (def.name === 'Customer') {
    for (const entity of ['Invoice', 'Payment'] as const) {
      const table = company.tables[entity];
      for (const row of table.idOrder) {
        const ref = row.data.CustomerRef as { value?: string } | undefined;
        if (row.deleted || ref?.value !== fromId) continue;
        table.replace(
          row,
          {
            ...row.data,
            CustomerRef: { value: intoId, name: into.data.DisplayName },
            SyncToken: String(Number(row.data.SyncToken) + 1),
            MetaData: { ...(row.data.MetaData as QboObject), LastUpdatedTime: formatMetaTime(now) },
          },
          now,
        );
        events.push(event(company, entity, row.id, 'Update', now));
      }
    }
  }
  const fromName = def.unique ? from.data[def.unique.field] : undefined;
  const fromBalance = Number(from.data.Balance ?? 0);
  company.tables[def.name].replace(
    from,
    { domain: 'QBO', status: 'Deleted', Id: from.id, MetaData: { LastUpdatedTime: formatMetaTime(now) } },
    now,
    true,
  );
  company.indexName(from, fromName);
  const balance = cents(Number(into.data.Balance ?? 0) + fromBalance);
  company.tables[def.name].replace(
    into,
    {
      ...into.data,
      ...(typeof into.data.Balance === 'number' ? { Balance: balance } : {}),
      ...(typeof into.data.BalanceWithJobs === 'number' ? { BalanceWithJobs: balance } : {}),
      SyncToken: String(Number(into.data.SyncToken) + 1),
      MetaData: { ...(into.data.MetaData as QboObject), LastUpdatedTime: formatMetaTime(now) },
    },
    now,
  );
  events.unshift({ ...event(company, def.name, intoId, 'Merge', now), deletedId: fromId });
  return { entity: def.name, body: into.data, events };
}
