import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declsFor } from '../domain/entities.js';
import { createFakeQbo } from '../testing/fake-qbo.js';
import { type DeltaBatch, readChanges } from './cdc-delta.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const S = 1_000;
const six = declsFor(['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment']);

async function drain(gen: AsyncGenerator<DeltaBatch, { asOf: number; reconcile: string[] }>) {
  const ids = new Map<string, Set<string>>();
  for (;;) {
    const next = await gen.next();
    if (next.done) return { ids, outcome: next.value };
    const set = ids.get(next.value.entity) ?? new Set();
    for (const r of next.value.rows) set.add(String(r.Id));
    ids.set(next.value.entity, set);
  }
}

describe('readChanges', () => {
  it('finds changes spread over six entities with one CDC call', async () => {
    const fake = createFakeQbo({ now: () => T0 + 100 * S });
    six.forEach((d, e) => {
      for (let i = 1; i <= 150; i++) fake.put(d.name, { Id: String(i), lastUpdated: T0 + (i + e) * S });
    });
    const { ids, outcome } = await drain(readChanges(fake.cdc, fake.query, six, T0, 1_000));
    assert.equal(fake.calls.length, 1);
    assert.equal(
      [...ids.values()].reduce((n, s) => n + s.size, 0),
      900,
    );
    assert.equal(outcome.asOf, T0 + 100 * S);
    assert.deepEqual(outcome.reconcile, []);
  });

  it('narrows a capped answer until 2,500 changes of one entity are all found, and asks to reconcile it', async () => {
    const fake = createFakeQbo({ now: () => T0 + 10_000 * S });
    for (let i = 1; i <= 2_500; i++) fake.put('Invoice', { Id: String(i), lastUpdated: T0 + i * S });
    for (let i = 1; i <= 40; i++) fake.put('Customer', { Id: String(i), lastUpdated: T0 + i * S });
    const { ids, outcome } = await drain(readChanges(fake.cdc, fake.query, six, T0, 1_000));
    assert.equal(ids.get('Invoice')?.size, 2_500);
    assert.equal(ids.get('Customer')?.size, 40);
    assert.deepEqual(outcome.reconcile, ['Invoice']);
  });

  it('reports deleted stubs of an answer under the cap', async () => {
    const fake = createFakeQbo({ now: () => T0 + 100 * S });
    fake.put('Invoice', { Id: '7', lastUpdated: T0 + 3 * S, deleted: true });
    const { ids } = await drain(readChanges(fake.cdc, fake.query, six, T0, 1_000));
    assert.deepEqual([...(ids.get('Invoice') ?? [])], ['7']);
  });
});
