import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QboError, type QboObject } from '@qbo/qbo-client';
import { declsFor } from '../domain/entities.js';
import { planWholeWindows, readWholeWindows } from './load.js';
import type { BatchAnswer, SyncSession } from './session.js';

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

const rows = (n: number): QboObject[] => Array.from({ length: n }, (_, i) => ({ Id: String(i + 1) }));
const page = (n: number): BatchAnswer => ({
  page: { entity: 'x', rows: rows(n), startPosition: 1, maxResults: n },
});
const poison = () =>
  new QboError({
    category: 'validation',
    code: '4002',
    status: 400,
    message: 'QueryProcessingError',
    attempts: 1,
  });
/** A session whose one `/batch` call answers `answer`, counting the calls. */
const sessionAnswering = (answer: () => BatchAnswer[]) => {
  const session = {
    calls: 0,
    async queryBatch() {
      session.calls++;
      return answer();
    },
  };
  return session;
};
const read = (session: ReturnType<typeof sessionAnswering>, counts: Record<string, number>) =>
  readWholeWindows(session as unknown as SyncSession, SIX, new Map(Object.entries(counts)), Date.now(), 1000);

describe('readWholeWindows', () => {
  const small = { Customer: 300, Vendor: 200, Item: 100, Account: 0 };

  it('takes each window of one /batch answer whole, and an empty one without a call', async () => {
    const session = sessionAnswering(() => [page(300), page(198), page(100)]);
    const whole = await read(session, small);
    assert.equal(session.calls, 1);
    assert.deepEqual(
      [...whole].map(([entity, r]) => [entity, r.length]),
      [
        ['Account', 0],
        ['Customer', 300],
        ['Vendor', 198],
        ['Item', 100],
      ],
    );
  });

  it('pages a window whose answer holds more rows than its count, or that failed on its own', async () => {
    const session = sessionAnswering(() => [page(301), { error: poison() }, page(100)]);
    const whole = await read(session, small);
    assert.deepEqual([...whole.keys()].sort(), ['Account', 'Item']);
  });

  it('pages the whole group when the answer reached the cap, since Intuit may have cut it', async () => {
    const session = sessionAnswering(() => [page(500), page(400), page(100)]);
    const whole = await read(session, { Customer: 500, Vendor: 400, Item: 100 });
    assert.deepEqual([...whole.keys()], []);
  });

  it('pages the group when the call was refused for a poisoned record, and throws any other failure', async () => {
    const refused = sessionAnswering(() => {
      throw poison();
    });
    assert.deepEqual([...(await read(refused, small)).keys()], ['Account']);
    const down = sessionAnswering(() => {
      throw new QboError({ category: 'auth', code: 'invalid_grant', message: 'revoked', attempts: 1 });
    });
    await assert.rejects(read(down, small), /revoked/);
  });
});
