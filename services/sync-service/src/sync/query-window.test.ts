import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntityDecl } from '../domain/entities.js';
import { lastUpdatedOf } from '../domain/qbo-time.js';
import { createFakeQbo } from '../testing/fake-qbo.js';
import { readWindow } from './query-window.js';

const customer: EntityDecl = { name: 'Customer', kind: 'name_list', cdc: true };
const invoice: EntityDecl = { name: 'Invoice', kind: 'transaction', cdc: true };
const T0 = Date.parse('2026-03-01T00:00:00Z');
const S = 1_000;

async function readAll(
  fake: ReturnType<typeof createFakeQbo>,
  decl: EntityDecl,
  from: number | null,
  until: number,
  pageSize = 100,
  atMost?: number,
) {
  const seen = new Map<string, number>();
  const cursors: (number | null)[] = [];
  for await (const batch of readWindow(fake.query, decl, from, until, { pageSize, atMost })) {
    for (const r of batch.rows) seen.set(String(r.Id), lastUpdatedOf(r) as number);
    cursors.push(batch.cursor);
  }
  return { seen, cursors };
}

describe('readWindow', () => {
  it('reads every record of the window once per page, inactive name-list records included', async () => {
    const fake = createFakeQbo({ now: () => T0 + 10_000 * S });
    for (let i = 1; i <= 450; i++)
      fake.put('Customer', { Id: String(i), lastUpdated: T0 + i * S, Active: i % 7 !== 0 });
    const { seen } = await readAll(fake, customer, null, T0 + 10_000 * S);
    assert.equal(seen.size, 450);
    assert.equal(
      fake.calls.length,
      5,
      'four full pages and a short one, no re-read beyond the boundary second',
    );
  });

  it('reads records sharing the boundary second of a page again instead of skipping them', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    // 95 records in distinct seconds, then 20 in one second straddling the first page's end.
    for (let i = 1; i <= 95; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + i * S });
    for (let i = 96; i <= 115; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 200 * S });
    const { seen } = await readAll(fake, invoice, null, T0 + 1_000 * S);
    assert.equal(seen.size, 115);
  });

  it('pages a second holding 1,500 records by Id and counts it twice, skipping none', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    for (let i = 1; i <= 1_500; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 5 * S });
    for (let i = 1_501; i <= 1_510; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 6 * S });
    const { seen } = await readAll(fake, invoice, null, T0 + 1_000 * S, 1_000);
    assert.equal(seen.size, 1_510);
    assert.deepEqual(
      fake.calls.map((c) => c.kind),
      ['query', 'count', 'query', 'query', 'count', 'query'],
    );
  });

  it('never skips a record when others are updated while the window is paged', async () => {
    const until = T0 + 10_000 * S;
    let now = until - 1;
    const fake = createFakeQbo({ now: () => now });
    for (let i = 1; i <= 600; i++)
      fake.put('Invoice', { Id: String(i), lastUpdated: T0 + Math.floor(i / 3) * S });
    // Before each page, five records not read yet are updated: they move past `until`, shifting the rest.
    fake.onCall((n) => {
      if (n === 0) return;
      now += S;
      for (const r of fake
        .records('Invoice')
        .filter((x) => x.lastUpdated < until)
        .slice(-5)) {
        r.lastUpdated = now + until;
      }
    });
    const { seen } = await readAll(fake, invoice, null, until, 50);
    const stayed = fake.records('Invoice').filter((r) => r.lastUpdated < until);
    for (const r of stayed) assert.ok(seen.has(r.Id), `record ${r.Id} was skipped`);
  });

  it('pages a tie group again when a record leaves it while it is paged', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    for (let i = 1; i <= 250; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 5 * S });
    let moved = false;
    fake.onCall((n) => {
      // After the tie group's second page: Id 10 (already read) is updated, shifting every later offset.
      if (n === 4 && !moved) {
        moved = true;
        (fake.get('Invoice', '10') as { lastUpdated: number }).lastUpdated = T0 + 2_000 * S;
      }
    });
    const { seen } = await readAll(fake, invoice, null, T0 + 1_000 * S);
    for (let i = 1; i <= 250; i++) if (i !== 10) assert.ok(seen.has(String(i)), `record ${i} was skipped`);
    assert.ok(fake.calls.filter((c) => c.kind === 'count').length >= 3, 'counted again after paging again');
  });

  it('resumes from the cursor it handed over last', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    for (let i = 1; i <= 300; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + i * S });
    const first = readWindow(fake.query, invoice, null, T0 + 1_000 * S, { pageSize: 100 });
    const one = await first.next();
    assert.ok(!one.done);
    const cursor = one.value.cursor;
    assert.equal(cursor, T0 + 100 * S);
    const { seen } = await readAll(fake, invoice, cursor, T0 + 1_000 * S);
    assert.equal(seen.size, 201, 'records 100–300: the cursor second is read again');
  });
});

describe('readWindow with a count', () => {
  it('does not ask for the page after a full one once it has read as many records as were counted', async () => {
    const calls = async (atMost?: number) => {
      const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
      for (let i = 1; i <= 100; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + i * S });
      const { seen } = await readAll(fake, invoice, null, T0 + 1_000 * S, 100, atMost);
      assert.equal(seen.size, 100);
      return fake.calls.length;
    };
    assert.equal(await calls(), 2, 'without a count, an exact page needs a second query to end');
    assert.equal(await calls(100), 1, 'with it, one');
  });
});
