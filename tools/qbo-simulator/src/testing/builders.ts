import assert from 'node:assert/strict';
import { Company } from '../domain/company.js';
import { ENTITY_DEFS } from '../domain/entities/registry.js';
import type { EntityName, QboObject } from '../domain/entities/types.js';
import { isQboFault, type QboFault } from '../domain/fault.js';
import { seedTaxCodes } from '../domain/tax-codes.js';
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

/** The QboFault `fn` throws; fails the test when it throws nothing. */
export function faultOf(fn: () => unknown): QboFault {
  try {
    fn();
  } catch (err) {
    if (isQboFault(err)) return err;
    throw err;
  }
  return assert.fail('expected a fault');
}

/** A stocked company (income account 1, item, customer 1) with a bank account 2, an expense account 3, a vendor and tax codes. */
export function aBookkeepingCompany() {
  const stock = aStockedCompany(1);
  seedTaxCodes(stock.company, T0);
  for (const [Name, AccountType] of [
    ['Checking', 'Bank'],
    ['Advertising', 'Expense'],
  ] as const)
    create(stock.company, 'Account', { Name, AccountType });
  const vendor = create(stock.company, 'Vendor', { DisplayName: 'Paper Co' }).body;
  return { ...stock, vendor, checking: '2', advertising: '3' };
}
