import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEventFactory,
  RecordDeleted,
  RecordSnapshotStarted,
  RecordUpserted,
  TokenRotated,
  topics,
} from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { feedHeaders, tombstoneHeaders } from './feed-headers.js';
import { messageBytes } from './message-size.js';

const make = createEventFactory({ source: 'sync-service' });

describe('change feed headers', () => {
  it('carry the CloudEvents attributes and plain entity and op headers of a record event', () => {
    const event = make(RecordUpserted, sampleInputs.RecordUpserted);
    assert.deepEqual(feedHeaders(event, topics.records), {
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_type: 'qbo-platform.RecordUpserted.v1',
      ce_source: '/orgs/org-acme/realms/9341453050298472',
      ce_time: event.time,
      ce_subject: 'Customer/58',
      ce_sequence: '00000000000000000042',
      entity: 'Customer',
      op: 'u',
    });
    const deleted = make(RecordDeleted, sampleInputs.RecordDeleted);
    assert.equal(feedHeaders(deleted, topics.records)?.op, 'd');
  });

  it('leave out the subject and entity of a snapshot marker, which names no record', () => {
    const headers = feedHeaders(
      make(RecordSnapshotStarted, sampleInputs.RecordSnapshotStarted),
      topics.records,
    );
    assert.equal(headers?.ce_sequence, '00000000000000000001');
    assert.equal(headers?.ce_subject, undefined);
    assert.equal(headers?.entity, undefined);
  });

  it('are not added to events of other topics', () => {
    assert.equal(feedHeaders(make(TokenRotated, sampleInputs.TokenRotated), topics.tokens), undefined);
  });

  it('name a tombstone’s entity, op d and the seq of its delete', () => {
    assert.deepEqual(tombstoneHeaders({ entity: 'Invoice', seq: '00000000000000000043' }), {
      entity: 'Invoice',
      op: 'd',
      seq: '00000000000000000043',
    });
  });
});

describe('message size', () => {
  it('counts key, value and every header, plus framing', () => {
    const bare = messageBytes({ key: 'k', value: 'v' });
    assert.ok(bare > 2);
    assert.equal(messageBytes({ key: 'k', value: 'v'.repeat(1001) }), bare + 1000);
    assert.ok(messageBytes({ key: 'k', value: 'v', headers: { op: 'u' } }) > bare + 3);
    assert.equal(messageBytes({ key: 'k', value: null }), bare - 1);
  });
});
