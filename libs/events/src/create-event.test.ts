import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory } from './create-event.js';
import { ConnectionEstablished } from './events/connections.js';
import { TokenRotated } from './events/tokens.js';
import { sampleInputs } from './testing/samples.js';
import { EventSchemaError, validateForPublish } from './validate.js';

const fixedNow = () => new Date('2026-11-25T12:00:00.000Z');
const make = createEventFactory({ source: 'auth-service', now: fixedNow });

describe('createEventFactory', () => {
  it('fills in a UUID v7 id, the time, the source, the type and the version', () => {
    const event = make(ConnectionEstablished, sampleInputs.ConnectionEstablished);
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(event.time, '2026-11-25T12:00:00.000Z');
    assert.equal(event.source, 'auth-service');
    assert.equal(event.type, 'ConnectionEstablished');
    assert.equal(event.version, 1);
    assert.equal(event.orgId, 'org-acme');
  });

  it('puts the creation time in the id, so ids sort by millisecond', () => {
    const event = make(ConnectionEstablished, sampleInputs.ConnectionEstablished);
    const ms = Number.parseInt(event.id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(Math.abs(ms - Date.now()) < 60_000, 'the id embeds the current time');
  });

  it('refuses an event that breaks its schema, naming the field and the rule', () => {
    const bad = {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, credentialVersion: -1 },
    };
    assert.throws(
      () => make(TokenRotated, bad),
      (err: unknown) =>
        err instanceof EventSchemaError &&
        err.code === 'event_schema_violation' &&
        /^TokenRotated v1 does not match its schema: data\.credentialVersion: /.test(err.message),
    );
  });

  it('refuses a field the schema does not declare, without echoing its value', () => {
    const leaky = {
      ...sampleInputs.TokenRotated,
      data: { ...sampleInputs.TokenRotated.data, refreshToken: 'AB11-super-secret-refresh-token' },
    };
    assert.throws(
      () => make(TokenRotated, leaky as never),
      (err: unknown) =>
        err instanceof EventSchemaError &&
        /data\.refreshToken: is not part of the schema/.test(err.message) &&
        !err.message.includes('super-secret'),
    );
  });

  it('refuses an org id that is not safe as a key', () => {
    assert.throws(
      () => make(ConnectionEstablished, { ...sampleInputs.ConnectionEstablished, orgId: 'org acme\n' }),
      /orgId: must be a platform org id/,
    );
  });

  it('refuses a malformed traceparent', () => {
    assert.throws(
      () =>
        make(ConnectionEstablished, { ...sampleInputs.ConnectionEstablished, traceparent: 'not-a-trace' }),
      /traceparent/,
    );
  });

  it('returns a frozen event, so it stays as validated', () => {
    const event = make(TokenRotated, sampleInputs.TokenRotated);
    assert.ok(Object.isFrozen(event) && Object.isFrozen(event.data));
    assert.throws(() => {
      (event.data as { credentialVersion: number }).credentialVersion = -1;
    }, TypeError);
  });

  it('still validates a copy of an event that was changed', () => {
    const event = make(TokenRotated, sampleInputs.TokenRotated);
    const changed = { ...event, data: { ...event.data, credentialVersion: 0 } };
    assert.throws(() => validateForPublish(TokenRotated, changed), EventSchemaError);
  });
});
