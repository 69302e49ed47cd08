import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { type BudgetLimits, budgetLimits } from './limits.js';
import type { BudgetStore } from './store.js';

export interface StoreHarness {
  store(limits: BudgetLimits): BudgetStore | Promise<BudgetStore>;
  /** Lets `ms` pass on the store's clock. */
  elapse(ms: number): Promise<void>;
}

/** Limits small enough to reach in a test; windows long enough that a slow machine does not slide them. */
const small = (overrides: Partial<BudgetLimits>) =>
  budgetLimits({
    headroom: 0,
    perMinute: 100,
    perSecond: 100,
    concurrent: 100,
    batchPerMinute: 100,
    minuteMs: 60_000,
    secondMs: 1_000,
    marginMs: 0,
    ...overrides,
  });

const realm = () => `9${Math.floor(Math.random() * 1e15)}`;
const slot = () => randomUUID();

/** One behaviour per test, run against every BudgetStore implementation. */
export function describeBudgetStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name} budget store`, () => {
    it('admits up to the per-second limit, then says how long until the window has room', async () => {
      const store = await harness.store(small({ perSecond: 3, secondMs: 5_000 }));
      const r = realm();
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await store.tryAcquire(r, 'request', slot()), { ok: true });
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok && refused.reason === 'per-second');
      assert.ok(!refused.ok && refused.retryInMs > 0 && refused.retryInMs <= 5_000, JSON.stringify(refused));
    });

    it('slides: an entry leaves the window one span after it entered, not at a fixed boundary', async () => {
      const store = await harness.store(small({ perSecond: 3, secondMs: 1_000 }));
      const r = realm();
      await store.tryAcquire(r, 'request', slot());
      await harness.elapse(500);
      await store.tryAcquire(r, 'request', slot());
      await store.tryAcquire(r, 'request', slot());
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(!refused.ok && refused.retryInMs <= 500, JSON.stringify(refused));
      await harness.elapse((refused.ok ? 0 : refused.retryInMs) + 30);
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true, 'the first entry has left');
      const again = await store.tryAcquire(r, 'request', slot());
      assert.ok(!again.ok && again.reason === 'per-second', 'the two later entries are still counted');
    });

    it('holds the per-minute limit independently of the per-second one', async () => {
      const store = await harness.store(small({ perMinute: 4, perSecond: 10 }));
      const r = realm();
      for (let i = 0; i < 4; i++) assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true);
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(!refused.ok && refused.reason === 'per-minute' && refused.retryInMs > 50_000);
    });

    it('admits no more than the concurrent limit until a slot is released', async () => {
      const store = await harness.store(small({ concurrent: 2 }));
      const r = realm();
      const first = slot();
      await store.tryAcquire(r, 'request', first);
      await store.tryAcquire(r, 'request', slot());
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(!refused.ok && refused.reason === 'concurrent');
      await store.release(r, first);
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true);
    });

    it('frees a slot whose holder never released it when its lease ends', async () => {
      const store = await harness.store(small({ concurrent: 1, leaseMs: 300 }));
      const r = realm();
      await store.tryAcquire(r, 'request', slot());
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(!refused.ok && refused.reason === 'concurrent' && refused.retryInMs <= 300);
      await harness.elapse(350);
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true);
    });

    it('changes nothing when it refuses a call', async () => {
      const store = await harness.store(small({ concurrent: 1, perSecond: 2, secondMs: 5_000 }));
      const r = realm();
      const first = slot();
      await store.tryAcquire(r, 'request', first);
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, false, 'no slot free');
      await store.release(r, first);
      assert.equal(
        (await store.tryAcquire(r, 'request', slot())).ok,
        true,
        'the refused call was not counted',
      );
    });

    it('counts batches against their own per-minute limit without holding back plain requests', async () => {
      const store = await harness.store(small({ batchPerMinute: 1 }));
      const r = realm();
      assert.equal((await store.tryAcquire(r, 'batch', slot())).ok, true);
      const refused = await store.tryAcquire(r, 'batch', slot());
      assert.ok(!refused.ok && refused.reason === 'batch-per-minute');
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true);
    });

    it('admits nothing while paused, and a shorter pause does not cut a longer one', async () => {
      const store = await harness.store(small({}));
      const r = realm();
      await store.pause(r, 400);
      await store.pause(r, 10);
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(
        !refused.ok && refused.reason === 'paused' && refused.retryInMs > 100,
        JSON.stringify(refused),
      );
      await harness.elapse(450);
      assert.equal((await store.tryAcquire(r, 'request', slot())).ok, true);
    });

    it('keeps realms apart', async () => {
      const store = await harness.store(small({ perSecond: 1, secondMs: 5_000 }));
      const busy = realm();
      await store.tryAcquire(busy, 'request', slot());
      assert.equal((await store.tryAcquire(busy, 'request', slot())).ok, false);
      assert.equal((await store.tryAcquire(realm(), 'request', slot())).ok, true);
    });

    it('widens every window by the margin', async () => {
      const store = await harness.store(small({ perSecond: 1, secondMs: 200, marginMs: 2_000 }));
      const r = realm();
      await store.tryAcquire(r, 'request', slot());
      await harness.elapse(300);
      const refused = await store.tryAcquire(r, 'request', slot());
      assert.ok(!refused.ok && refused.retryInMs > 1_000, JSON.stringify(refused));
    });
  });
}
