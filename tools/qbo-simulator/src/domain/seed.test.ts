import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from '../testing/builders.js';
import { Company } from './company.js';
import { executeQuery, queryResponseJson } from './query/execute.js';
import { seedCompany, splitRecords } from './seed.js';

const seeded = (seed: number) => {
  const company = new Company('9130000000000001', 'Seeded', T0);
  seedCompany(company, seed, splitRecords(400), T0);
  return company;
};

const dump = (company: Company) =>
  Object.values(company.tables)
    .flatMap((table) => table.idOrder.map((row) => JSON.stringify(row.data)))
    .join('\n');

test('the same seed gives the same records', () => {
  assert.equal(dump(seeded(5)), dump(seeded(5)));
});

test('another seed gives other records', () => {
  assert.notEqual(dump(seeded(5)), dump(seeded(6)));
});

test('seeded balances agree: a customer owes what its open invoices say', () => {
  const company = seeded(9);
  const owed = new Map<string, number>();
  for (const row of company.tables.Invoice.idOrder) {
    const ref = (row.data.CustomerRef as { value: string }).value;
    owed.set(ref, (owed.get(ref) ?? 0) + Number(row.data.Balance));
  }
  for (const row of company.tables.Customer.idOrder) {
    assert.equal(row.data.Balance, Math.round((owed.get(row.id) ?? 0) * 100) / 100, `customer ${row.id}`);
  }
});

test('seeded display names are unique across customers and vendors', () => {
  const company = seeded(3);
  const names = [...company.tables.Customer.idOrder, ...company.tables.Vendor.idOrder].map((r) =>
    String(r.data.DisplayName)
      .replace(/ \(deleted\)$/, '')
      .toLowerCase(),
  );
  assert.equal(new Set(names).size, names.length);
});

test('seeded records answer queries like created ones', () => {
  const company = seeded(4);
  const answer = JSON.parse(
    queryResponseJson(executeQuery(company, 'select count(*) from Customer where Active IN (true,false)')),
  );
  assert.deepEqual(answer, { totalCount: 160 });
});
