import assert from 'node:assert/strict';
import { it } from 'node:test';
import { consumption } from '@qbo/event-bus';
import { disconnectHandlers } from './on-connection-disconnected.js';

it('reads exactly the topics the contract declares token-service consumes (its read grants)', () => {
  const handlers = disconnectHandlers({ orm: {} as never, tokens: {} as never, log: {} as never })(
    {} as never,
  );
  const { handled, declared } = consumption('token-service', [handlers]);
  assert.deepEqual(handled, declared);
});
