import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declsFor, type EntityDecl } from '../domain/entities.js';
import { createFakeQbo } from '../testing/fake-qbo.js';
import { type DeltaBatch, readChanges } from './cdc-delta.js';
import { type PoisonedRecord, readIds } from './poison.js';
import { readWindow } from './query-window.js';

const invoice: EntityDecl = { name: 'Invoice', kind: 'transaction', cdc: true };
const T0 = Date.parse('2026-03-01T00:00:00Z');
const S = 1_000;

async function readAll(fake: ReturnType<typeof createFakeQbo>, from: number | null, until: number) {
  const ids = new Set<string>();
  const poisoned: PoisonedRecord[] = [];
  let done = 0;
  for await (const batch of readWindow(fake.query, invoice, from, until, { pageSize: 1_000 })) {
    for (const r of batch.rows) ids.add(String(r.Id));
    poisoned.push(...(batch.poisoned ?? []));
    if (batch.done) done++;
  }
  return { ids, poisoned, done };
}

describe('poisoned records', () => {
  it('narrows a failing page down to the one record by time, reads the rest and reports its second', async () => {
    const fake = createFakeQbo({ now: () => T0 + 10_000 * S });
    for (let i = 1; i <= 3_000; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + i * S });
    fake.poison('Invoice', '1700');
    const { ids, poisoned, done } = await readAll(fake, null, T0 + 10_000 * S);
    assert.equal(ids.size, 2_999, 'every other record read');
    assert.ok(!ids.has('1700'));
    assert.equal(done, 1, 'the window completes once');
    assert.deepEqual(poisoned, [
      { entity: 'Invoice', code: '4002', from: T0 + 1_700 * S, to: T0 + 1_701 * S, position: 1 },
    ]);
    // Bisecting ~56 years of seconds from an open start, then pages around it: far below a record-by-record read.
    assert.ok(fake.calls.length < 120, `${fake.calls.length} calls`);
  });

  it('narrows within one second of 1,500 records by Id-ordered offsets (a SystemFault too)', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    for (let i = 1; i <= 1_500; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 5 * S });
    for (let i = 1_501; i <= 1_510; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 6 * S });
    fake.poison('Invoice', '1234', '10000');
    const { ids, poisoned } = await readAll(fake, T0, T0 + 1_000 * S);
    assert.equal(ids.size, 1_509);
    assert.equal(poisoned.length, 1);
    assert.deepEqual(poisoned[0], {
      entity: 'Invoice',
      code: '10000',
      from: T0 + 5 * S,
      to: T0 + 6 * S,
      position: 1_234,
      afterId: '1233',
    });
  });

  it('reads around two poisoned records of one page', async () => {
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    for (let i = 1; i <= 400; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + 7 * S });
    fake.poison('Invoice', '10');
    fake.poison('Invoice', '11');
    const { ids, poisoned } = await readAll(fake, T0, T0 + 1_000 * S);
    assert.equal(ids.size, 398);
    assert.deepEqual(
      poisoned.map((p) => [p.position, p.afterId]),
      [
        [10, '9'],
        [11, '9'],
      ],
    );
  });

  it('falls back from a failing CDC window to windowed reads of the failing entity only', async () => {
    const six = declsFor(['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment']);
    const fake = createFakeQbo({ now: () => T0 + 1_000 * S });
    six.forEach((d, e) => {
      for (let i = 1; i <= 50; i++) fake.put(d.name, { Id: String(i), lastUpdated: T0 + (i + e) * S });
    });
    fake.poison('Invoice', '20');
    const gen = readChanges(fake.cdc, fake.query, six, T0, 1_000);
    const found = new Map<string, Set<string>>();
    const poisoned: PoisonedRecord[] = [];
    const origins = new Map<string, Set<string>>();
    let next: IteratorResult<DeltaBatch, { asOf: number; reconcile: string[] }>;
    for (next = await gen.next(); !next.done; next = await gen.next()) {
      const b = next.value;
      const set = found.get(b.entity) ?? new Set();
      for (const r of b.rows) set.add(String(r.Id));
      found.set(b.entity, set);
      origins.set(b.entity, (origins.get(b.entity) ?? new Set()).add(b.origin));
      poisoned.push(...(b.poisoned ?? []));
    }
    for (const d of six) assert.equal(found.get(d.name)?.size, d.name === 'Invoice' ? 49 : 50, d.name);
    assert.deepEqual([...(origins.get('Invoice') ?? [])], ['query']);
    assert.deepEqual([...(origins.get('Customer') ?? [])], ['cdc']);
    assert.deepEqual(next.value.reconcile, ['Invoice'], "the window's deletes are left to reconciliation");
    assert.deepEqual(
      poisoned.map((p) => [p.entity, p.from]),
      [['Invoice', T0 + 24 * S]],
    );
  });

  it('splits an Id list down to the Id Intuit cannot return, and reads the others', async () => {
    const fake = createFakeQbo({ now: () => T0 });
    for (let i = 1; i <= 40; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 });
    fake.poison('Invoice', '17', '10000');
    const ids = Array.from({ length: 40 }, (_, i) => String(i + 1));
    const read = async (chunk: readonly string[]) =>
      (
        await fake.query({
          entity: 'Invoice',
          where: [{ field: 'Id', op: 'IN', value: [...chunk] }],
          maxResults: 1000,
        })
      ).rows;
    const { rows, poisoned } = await readIds(read, ids);
    assert.equal(rows.length, 39);
    assert.deepEqual(poisoned, [{ entityId: '17', code: '10000' }]);
    assert.ok(fake.calls.length <= 2 * Math.ceil(Math.log2(40)) + 1, `${fake.calls.length} calls`);
  });
});
