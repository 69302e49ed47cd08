import assert from 'node:assert/strict';
import { it } from 'node:test';
import { consumption } from '@qbo/event-bus';
import { statusViewHandlers } from './status-view.js';

it('reads exactly the topics the contract declares auth-service consumes (its read grants)', () => {
  const { handled, declared } = consumption('auth-service', [
    statusViewHandlers({ orm: {} as never, inbox: {} as never, connections: {} as never, log: {} as never }),
  ]);
  assert.deepEqual(handled, declared);
});
