import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBatcher } from './batcher.js';

const deferred = () => {
  let release!: () => void;
  const done = new Promise<void>((r) => {
    release = r;
  });
  return { done, release };
};

describe('createBatcher', () => {
  it('sends callers that arrive while a batch is in flight together in the next batch, in order', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const batch = createBatcher<number, number>({
      maxItems: 100,
      run: async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await gate.done;
        return items.map((i) => i * 10);
      },
    });
    const first = batch(1);
    const rest = [batch(2), batch(3), batch(4)];
    gate.release();
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40]);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  it('fails every caller of a batch that failed', async () => {
    const batch = createBatcher<number, void>({
      maxItems: 10,
      run: async () => {
        throw new Error('broker unavailable');
      },
    });
    const results = await Promise.allSettled([batch(1), batch(2)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('does not send an item whose caller gave up while it waited', async () => {
    let clock = 0;
    const sent: number[] = [];
    const gate = deferred();
    const batch = createBatcher<number, void>({
      maxItems: 10,
      now: () => clock,
      run: async (items) => {
        sent.push(...items);
        if (sent.length === 1) await gate.done;
        return items.map(() => undefined);
      },
    });
    const first = batch(1, 100);
    const late = batch(2, 50);
    clock = 60;
    gate.release();
    await first;
    await assert.rejects(late, { code: 'expired_in_queue' });
    assert.deepEqual(sent, [1]);
  });

  it('splits a long queue into batches of at most maxItems', async () => {
    const sizes: number[] = [];
    const gate = deferred();
    const batch = createBatcher<number, void>({
      maxItems: 2,
      run: async (items) => {
        sizes.push(items.length);
        if (sizes.length === 1) await gate.done;
        return items.map(() => undefined);
      },
    });
    const all = [1, 2, 3, 4, 5].map((i) => batch(i));
    gate.release();
    await Promise.all(all);
    assert.deepEqual(sizes, [1, 2, 2]);
  });
});
