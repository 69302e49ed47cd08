import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declsFor } from '../domain/entities.js';
import { planWholeWindows } from './load.js';

const SIX = declsFor(['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment']);
const names = (plan: ReturnType<typeof planWholeWindows>) => ({
  empty: plan.empty.map((d) => d.name),
  groups: plan.groups.map((g) => g.map((d) => d.name)),
});

describe('planWholeWindows', () => {
  it('reads a small company in one group: every count within a batch answer’s 1,000 objects', () => {
    const counts = new Map(
      Object.entries({ Customer: 400, Vendor: 100, Item: 50, Account: 15, Invoice: 300, Payment: 135 }),
    );
    assert.deepEqual(names(planWholeWindows(SIX, counts, 1000)), {
      empty: [],
      groups: [['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment']],
    });
  });

  it('starts a new group where the next count would pass 1,000, in declaration order', () => {
    const counts = new Map(
      Object.entries({ Customer: 800, Vendor: 200, Item: 300, Account: 15, Invoice: 900, Payment: 90 }),
    );
    assert.deepEqual(names(planWholeWindows(SIX, counts, 1000)).groups, [
      ['Customer', 'Vendor'],
      ['Item', 'Account'],
      ['Invoice', 'Payment'],
    ]);
  });

  it('needs no call for a window counted empty, and pages a large entity and one left alone', () => {
    const counts = new Map(
      Object.entries({ Customer: 40_000, Vendor: 0, Item: 5_000, Account: 15, Invoice: 0, Payment: 15_000 }),
    );
    assert.deepEqual(names(planWholeWindows(SIX, counts, 1000)), {
      empty: ['Vendor', 'Invoice'],
      groups: [],
    });
  });

  it('pages an entity with no count (a resumed load) and one counted above the page size', () => {
    const counts = new Map(Object.entries({ Customer: 1001, Vendor: 10, Item: 10 }));
    assert.deepEqual(names(planWholeWindows(SIX, counts, 1000)), { empty: [], groups: [['Vendor', 'Item']] });
    assert.deepEqual(names(planWholeWindows(SIX, new Map(), 1000)), { empty: [], groups: [] });
  });

  it('holds a group to the page size too: a count above it is never read whole', () => {
    const counts = new Map(Object.entries({ Customer: 150, Vendor: 150 }));
    assert.deepEqual(names(planWholeWindows(SIX, counts, 100)), { empty: [], groups: [] });
  });
});
