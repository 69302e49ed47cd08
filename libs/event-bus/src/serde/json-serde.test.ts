import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory, RequestSync } from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { createJsonSerde } from './json-serde.js';

const event = createEventFactory({ source: 'serde-test' })(RequestSync, sampleInputs.RequestSync);

describe('json serde', () => {
  const serde = createJsonSerde();

  it('writes plain JSON and reads it back', async () => {
    const bytes = await serde.encode(RequestSync, event, 'qbo.commands.v1');
    assert.equal(bytes[0], '{'.charCodeAt(0));
    assert.deepEqual(await serde.decode(bytes), event);
  });

  it('refuses a registry-framed message it cannot check', async () => {
    await assert.rejects(serde.decode(Buffer.from([0, 0, 0, 0, 1, 123])), {
      code: 'registry_framing_unexpected',
      retryable: false,
    });
  });

  it('refuses bytes that are not JSON as poison', async () => {
    await assert.rejects(serde.decode(Buffer.from('not json')), { code: 'not_json', retryable: false });
  });
});
