import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetExhaustedError, createBudget } from './budget.js';
import { budgetLimits } from './limits.js';
import { createMemoryBudgetStore } from './memory-store.js';

const limits = (overrides: Parameters<typeof budgetLimits>[0]) =>
  budgetLimits({ headroom: 0, marginMs: 0, perSecond: 100, concurrent: 100, ...overrides });

describe('budget', () => {
  it('waits for the window to make room and reports the wait', async () => {
    const budget = createBudget({ store: createMemoryBudgetStore(limits({ perSecond: 1, secondMs: 150 })) });
    const first = await budget.acquire('1', 'request');
    const second = await budget.acquire('1', 'request');
    assert.ok(first.waitedMs < 50, `first waited ${first.waitedMs}`);
    assert.ok(second.waitedMs >= 140, `second waited ${second.waitedMs}`);
  });

  it('fails at once when the wait would pass its bound, instead of firing over the limit', async () => {
    const budget = createBudget({
      store: createMemoryBudgetStore(limits({ perMinute: 1 })),
      maxWaitMs: 1_000,
    });
    await budget.acquire('1', 'request');
    const started = Date.now();
    await assert.rejects(budget.acquire('1', 'request'), (err: unknown) => {
      assert.ok(err instanceof BudgetExhaustedError);
      assert.equal(err.reason, 'per-minute');
      return true;
    });
    assert.ok(Date.now() - started < 500, 'it did not sit out a wait it could not finish');
  });

  it('hands an in-flight slot to the next caller when a call releases it', async () => {
    const budget = createBudget({ store: createMemoryBudgetStore(limits({ concurrent: 1 })), pollMs: 5 });
    const held = await budget.acquire('1', 'request');
    const next = budget.acquire('1', 'request');
    setTimeout(() => held.release(), 50);
    const permit = await next;
    assert.ok(permit.waitedMs >= 40, `waited ${permit.waitedMs}`);
  });

  it('keeps an abandoned slot until its lease ends', async () => {
    const budget = createBudget({
      store: createMemoryBudgetStore(limits({ concurrent: 1, leaseMs: 200 })),
      pollMs: 5,
    });
    (await budget.acquire('1', 'request')).release('abandoned');
    const permit = await budget.acquire('1', 'request');
    assert.ok(permit.waitedMs >= 150, `waited ${permit.waitedMs}`);
  });

  it('serves one realm in arrival order', async () => {
    const budget = createBudget({ store: createMemoryBudgetStore(limits({ perSecond: 1, secondMs: 40 })) });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => budget.acquire('1', 'request').then(() => order.push(i))));
    assert.deepEqual(order, [0, 1, 2, 3]);
  });

  it('does not hold one realm behind another realm that is waiting', async () => {
    const budget = createBudget({
      store: createMemoryBudgetStore(limits({ perSecond: 1, secondMs: 5_000 })),
    });
    await budget.acquire('busy', 'request');
    const cancel = new AbortController();
    let settled = false;
    const stuck = budget.acquire('busy', 'request', cancel.signal).finally(() => {
      settled = true;
    });
    const other = await budget.acquire('idle', 'request');
    assert.ok(other.waitedMs < 50, `the other realm waited ${other.waitedMs}`);
    assert.equal(settled, false, 'the busy realm is still waiting');
    cancel.abort(new Error('done'));
    await assert.rejects(stuck, /done/);
  });

  it('stops waiting when the caller cancels', async () => {
    const budget = createBudget({ store: createMemoryBudgetStore(limits({ perMinute: 1 })) });
    await budget.acquire('1', 'request');
    const cancel = new AbortController();
    const waiting = budget.acquire('1', 'request', cancel.signal);
    cancel.abort(new Error('caller gave up'));
    await assert.rejects(waiting, /caller gave up/);
  });

  it('pauses every call to the realm', async () => {
    const budget = createBudget({ store: createMemoryBudgetStore(limits({})) });
    await budget.pause('1', 150);
    const permit = await budget.acquire('1', 'request');
    assert.ok(permit.waitedMs >= 140, `waited ${permit.waitedMs}`);
  });
});
