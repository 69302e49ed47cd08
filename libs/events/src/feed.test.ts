import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory } from './create-event.js';
import { RecordDeleted, RecordState, RecordUpserted } from './events/records.js';
import { fitRecordEvent, formatSeq, MESSAGE_HEADROOM_BYTES, parseSeq, recordStateOf } from './feed.js';
import { sampleInputs } from './testing/samples.js';
import { keyFor, stateKey, topics } from './topics.js';
import { EventSchemaError, validateForPublish } from './validate.js';

const make = createEventFactory({ source: 'sync-service' });
const upsert = (after: Record<string, unknown>) =>
  make(RecordUpserted, {
    ...sampleInputs.RecordUpserted,
    data: { ...sampleInputs.RecordUpserted.data, after },
  });

describe('feed sequence numbers', () => {
  it('format as 20 zero-padded digits and parse back, from bigints, numbers and digit strings', () => {
    assert.equal(formatSeq(42n), '00000000000000000042');
    assert.equal(formatSeq(7), '00000000000000000007');
    assert.equal(formatSeq('9223372036854775807'), '09223372036854775807');
    assert.equal(parseSeq('00000000000000000042'), 42n);
    assert.equal(parseSeq(formatSeq(2n ** 64n - 1n)), 2n ** 64n - 1n);
    assert.ok(formatSeq(9) < formatSeq(10), 'strings order as numbers');
  });

  it('refuse what is not a sequence number', () => {
    assert.throws(() => formatSeq(-1), RangeError);
    assert.throws(() => formatSeq(1.5), RangeError);
    assert.throws(() => formatSeq(10n ** 20n), RangeError);
    assert.throws(() => formatSeq('12a'), RangeError);
    assert.throws(() => parseSeq('42'), RangeError);
    assert.throws(() => parseSeq('0000000000000000004x'), RangeError);
  });

  it('are checked by every record event schema', () => {
    assert.throws(
      () =>
        make(RecordDeleted, {
          ...sampleInputs.RecordDeleted,
          data: { ...sampleInputs.RecordDeleted.data, seq: '43' },
        }),
      { name: 'EventSchemaError', message: /data\.seq: must be a sequence number/ },
    );
  });
});

describe('record event schemas', () => {
  it('need exactly one of after and payloadOmitted', () => {
    const { after: _after, ...withoutAfter } = sampleInputs.RecordUpserted.data;
    assert.throws(() => make(RecordUpserted, { ...sampleInputs.RecordUpserted, data: withoutAfter }), {
      message: /exactly one of after and payloadOmitted/,
    });
    assert.throws(
      () =>
        make(RecordUpserted, {
          ...sampleInputs.RecordUpserted,
          data: { ...sampleInputs.RecordUpserted.data, payloadOmitted: { reason: 'too_large', bytes: 5 } },
        }),
      { message: /exactly one of after and payloadOmitted/ },
    );
  });

  it('keep source times in UTC and the realm in data', () => {
    const data = sampleInputs.RecordUpserted.data;
    assert.throws(
      () =>
        make(RecordUpserted, {
          ...sampleInputs.RecordUpserted,
          data: { ...data, source: { ...data.source, lastUpdatedTime: '2026-11-25T02:00:00-08:00' } },
        }),
      EventSchemaError,
    );
    const { realmId: _realm, ...noRealm } = data;
    assert.throws(
      () => validateForPublish(RecordUpserted, { ...upsert({}), data: noRealm }),
      /data\.realmId/,
    );
  });
});

describe('state topic keys and events', () => {
  it('key the state topic by org, realm, entity and id', () => {
    const event = make(RecordState, sampleInputs.RecordState);
    assert.equal(keyFor(topics.recordsState, event), 'org-acme:9341453050298472:Invoice:131');
    assert.equal(
      stateKey({ orgId: 'org-acme', realmId: '9341453050298472', entity: 'Invoice', entityId: '131' }),
      'org-acme:9341453050298472:Invoice:131',
    );
    assert.equal(keyFor(topics.records, event), 'org-acme');
  });

  it('derive a valid RecordState from an upsert, without op and reason', () => {
    const up = upsert({ Id: '58' });
    const state = validateForPublish(RecordState, recordStateOf(up));
    assert.notEqual(state.id, up.id);
    assert.equal(state.time, up.time);
    assert.deepEqual(state.data, stateFieldsOf(up.data));
  });
});

const stateFieldsOf = (data: Record<string, unknown>) => {
  const { op: _op, reason: _reason, ...rest } = data;
  return rest;
};

describe('fitting a record event to the message limit', () => {
  it('keeps an event that fits as it is', () => {
    const event = upsert({ Id: '58', Notes: 'x'.repeat(1_000) });
    assert.equal(fitRecordEvent(event, 10_000), event);
  });

  it('replaces the payload of an event too large by its size, and the result is valid', () => {
    const after = {
      Id: '58',
      Lines: Array.from({ length: 500 }, (_, i) => ({ n: i, text: 'y'.repeat(40) })),
    };
    const event = upsert(after);
    const limit = 8_192;
    assert.ok(Buffer.byteLength(JSON.stringify(event)) > limit - MESSAGE_HEADROOM_BYTES);
    const fitted = fitRecordEvent(event, limit);
    assert.equal(fitted.data.after, undefined);
    assert.deepEqual(fitted.data.payloadOmitted, {
      reason: 'too_large',
      bytes: Buffer.byteLength(JSON.stringify(after)),
    });
    assert.equal(fitted.id, event.id);
    assert.equal(fitted.data.contentHash, event.data.contentHash);
    validateForPublish(RecordUpserted, fitted);
    assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= limit - MESSAGE_HEADROOM_BYTES);
  });
});
