import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SeenEvents } from '../store/seen-events.js';
import { memorySeenEvents } from '../testing/fakes.js';
import { batchSeenEvents } from './batched-store.js';

const WINDOW = 60_000;

/** A store whose writes wait for a gate, so a test can look while a record is not yet committed. */
function gatedStore(fail = false) {
  const inner = memorySeenEvents();
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const store: SeenEvents = {
    ...inner,
    record: async (ids) => {
      await gate;
      if (fail) throw new Error('database unavailable');
      await inner.record(ids);
    },
  };
  return { store, inner, open };
}

describe('batchSeenEvents (write-behind records)', () => {
  it('answers a record at once and counts its ids as seen before they are committed', async () => {
    const { store, inner, open } = gatedStore();
    const seen = batchSeenEvents(store, WINDOW, () => assert.fail('no error expected'));
    await seen.record(['a', 'b']);
    assert.equal(inner.ids.size, 0, 'not committed yet');
    assert.deepEqual([...(await seen.seen(['a', 'c'], WINDOW))], ['a']);
    open();
    await seen.flush();
    assert.deepEqual([...inner.ids].sort(), ['a', 'b']);
    assert.deepEqual([...(await seen.seen(['b', 'c'], WINDOW))], ['b']);
  });

  it('reports a failed record and stops holding its ids, so a later redelivery publishes again', async () => {
    const { store, open } = gatedStore(true);
    const errors: unknown[] = [];
    const seen = batchSeenEvents(store, WINDOW, (err) => errors.push(err));
    await seen.record(['a']);
    assert.deepEqual([...(await seen.seen(['a'], WINDOW))], ['a']);
    open();
    await seen.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual([...(await seen.seen(['a'], WINDOW))], []);
  });
});
