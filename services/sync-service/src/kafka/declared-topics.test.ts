import assert from 'node:assert/strict';
import { it } from 'node:test';
import { consumption } from '@qbo/event-bus';
import { syncHandlers } from './handlers.js';

it('reads exactly the topics the contract declares sync-service consumes (its read grants)', () => {
  const handlers = syncHandlers({
    once: () => async () => undefined,
    entities: [],
    debounceMs: 0,
    log: {} as never,
    outbox: {} as never,
    events: {} as never,
    intervals: { defaultMs: 1, minMs: 1, maxMs: 1 },
  });
  const { handled, declared } = consumption('sync-service', [handlers]);
  assert.deepEqual(handled, declared);
});
