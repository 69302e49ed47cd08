import { Company } from '../domain/company.js';
import { ENTITY_DEFS } from '../domain/entities/registry.js';
import type { EntityName, QboObject } from '../domain/entities/types.js';
import { createRecord, type WriteResult } from '../domain/writes.js';

export const T0 = Date.parse('2026-03-01T12:00:00Z');

export const aCompany = (realmId = '9130000000000001') => new Company(realmId, 'Test Co', T0);

/** Creates a record through the API write path at `now`. */
export const create = (company: Company, entity: EntityName, data: QboObject, now = T0): WriteResult =>
  createRecord(company, ENTITY_DEFS[entity], data, now);

/** A company with an income account, one item and `customers` customers named `Customer 1…n`. */
export function aStockedCompany(customers: number, now = T0) {
  const company = aCompany();
  const income = create(company, 'Account', { Name: 'Services', AccountType: 'Income' }, now).body;
  const item = create(
    company,
    'Item',
    { Name: 'Design', UnitPrice: 75, IncomeAccountRef: { value: income.Id } },
    now,
  ).body;
  for (let i = 1; i <= customers; i++)
    create(company, 'Customer', { DisplayName: `Customer ${i}` }, now + i * 1000);
  return { company, item, income };
}
