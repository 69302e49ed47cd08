import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEventFactory, RequestSync, TokenRotated } from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { type RegistryDouble, startRegistryDouble } from '../testing/registry-double.js';
import { createRegistrySerde, subjectOf } from './registry-serde.js';

const make = createEventFactory({ source: 'serde-test' });
const topic = 'qbo.commands.v1';

describe('registry serde (against an in-process registry double)', () => {
  let registry: RegistryDouble;
  before(async () => {
    registry = await startRegistryDouble();
  });
  after(async () => {
    await registry.stop();
  });

  it('writes the Confluent wire format: magic byte 0, then the int32 schema id', async () => {
    const serde = createRegistrySerde({ url: registry.url });
    const bytes = await serde.encode(RequestSync, make(RequestSync, sampleInputs.RequestSync), topic);
    assert.equal(bytes[0], 0);
    const id = bytes.readInt32BE(1);
    const latest = (await (
      await fetch(`${registry.url}/subjects/${subjectOf(topic, 'RequestSync', 1)}/versions/latest`)
    ).json()) as { id: number };
    assert.equal(id, latest.id);
    assert.equal(bytes.subarray(5).toString()[0], '{');
  });

  it('registers a subject once, on first use, with BACKWARD compatibility', async () => {
    const serde = createRegistrySerde({ url: registry.url });
    const before = registry.requests.length;
    for (let i = 0; i < 3; i++)
      await serde.encode(TokenRotated, make(TokenRotated, sampleInputs.TokenRotated), 'qbo.tokens.v1');
    const calls = registry.requests.slice(before);
    const subject = subjectOf('qbo.tokens.v1', 'TokenRotated', 1);
    assert.deepEqual(
      calls.filter((c) => c.includes('/subjects/') || c.includes('/config/')),
      [`GET /config/${subject}`, `POST /subjects/${subject}/versions`, `PUT /config/${subject}`],
    );
    const config = (await (await fetch(`${registry.url}/config/${subject}`)).json()) as {
      compatibilityLevel: string;
    };
    assert.equal(config.compatibilityLevel, 'BACKWARD');
  });

  it('reads back what it wrote, fetching the schema by id in a fresh process', async () => {
    const event = make(RequestSync, sampleInputs.RequestSync);
    const bytes = await createRegistrySerde({ url: registry.url }).encode(RequestSync, event, topic);
    assert.deepEqual(await createRegistrySerde({ url: registry.url }).decode(bytes), event);
  });

  it('refuses an event that breaks its registered schema when encoding', async () => {
    const serde = createRegistrySerde({ url: registry.url });
    const bad = { ...make(RequestSync, sampleInputs.RequestSync), data: { mode: 'sometimes' } };
    await assert.rejects(serde.encode(RequestSync, bad, topic), {
      name: 'ConfluentSchemaRegistryValidationError',
    });
  });

  it('calls a schema id the registry does not know poison', async () => {
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0x7f, 0x7f]), Buffer.from('{}')]);
    await assert.rejects(createRegistrySerde({ url: registry.url }).decode(framed), {
      code: 'unknown_schema_id',
      retryable: false,
    });
  });

  it('calls an unreachable registry retryable, not poison', async () => {
    const bytes = await createRegistrySerde({ url: registry.url }).encode(
      RequestSync,
      make(RequestSync, sampleInputs.RequestSync),
      topic,
    );
    registry.setUnavailable(true);
    try {
      await assert.rejects(createRegistrySerde({ url: registry.url }).decode(bytes), {
        code: 'registry_unavailable',
        retryable: true,
      });
    } finally {
      registry.setUnavailable(false);
    }
  });

  it('refuses a plain JSON message where the registry format is expected', async () => {
    await assert.rejects(createRegistrySerde({ url: registry.url }).decode(Buffer.from('{"id":1}')), {
      code: 'registry_framing_expected',
    });
  });
});
