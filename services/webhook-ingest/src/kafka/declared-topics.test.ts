import assert from 'node:assert/strict';
import { it } from 'node:test';
import { consumption } from '@qbo/event-bus';
import { connectionHandlers } from './on-connection.js';

it('reads exactly the topics the contract declares webhook-ingest consumes (its read grants)', () => {
  const handlers = connectionHandlers({
    realms: {} as never,
    replay: {} as never,
    log: {} as never,
    parkWindowMs: 0,
  });
  const { handled, declared } = consumption('webhook-ingest', [handlers]);
  assert.deepEqual(handled, declared);
});
