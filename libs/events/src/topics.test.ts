import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dlqTopic, keyFor, topics } from './topics.js';

describe('topics', () => {
  it('names dead-letter topics after their source topic', () => {
    assert.equal(dlqTopic(topics.records), 'qbo.records.v1.dlq');
  });

  it('keys org streams by org id', () => {
    assert.equal(keyFor(topics.tokens, { id: 'e1', orgId: 'org-1', realmId: '123' }), 'org-1');
  });

  it('keys parked webhooks by realm, since they have no org yet', () => {
    assert.equal(keyFor(topics.webhooksParked, { id: 'e1', orgId: '_unknown', realmId: '123' }), '123');
    assert.equal(keyFor(topics.webhooksParked, { id: 'e1', orgId: '_unknown' }), 'e1');
  });
});
