import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topics } from '@qbo/events';
import { plannedTopics } from './provision.js';
import { createTopicNames } from './topic-names.js';

const config = {
  partitions: 12,
  replicationFactor: 3,
  retentionMs: 1_000,
  parkingRetentionMs: 5_000,
  dlqRetentionMs: 9_000,
};
const entry = (planned: ReturnType<typeof plannedTopics>, topic: string) =>
  planned.find((t) => t.topic === topic);
const setting = (t: ReturnType<typeof entry>, name: string) =>
  t?.configEntries?.find((c) => c.name === name)?.value;

describe('plannedTopics', () => {
  const planned = plannedTopics(config);

  it('plans every contract topic, a DLQ for each org stream, and the parking topic without one', () => {
    assert.deepEqual(planned.map((t) => t.topic).sort(), [
      'qbo.commands.v1',
      'qbo.commands.v1.dlq',
      'qbo.connections.v1',
      'qbo.connections.v1.dlq',
      'qbo.records.v1',
      'qbo.records.v1.dlq',
      'qbo.sync-runs.v1',
      'qbo.sync-runs.v1.dlq',
      'qbo.tokens.v1',
      'qbo.tokens.v1.dlq',
      'qbo.webhooks.parked.v1',
      'qbo.webhooks.v1',
      'qbo.webhooks.v1.dlq',
    ]);
  });

  it('takes partitions, replication and retention from config', () => {
    const records = entry(planned, topics.records);
    assert.equal(records?.numPartitions, 12);
    assert.equal(records?.replicationFactor, 3);
    assert.equal(setting(records, 'retention.ms'), '1000');
    assert.equal(setting(records, 'min.insync.replicas'), '2');
    assert.equal(setting(entry(planned, topics.webhooksParked), 'retention.ms'), '5000');
    assert.equal(setting(entry(planned, 'qbo.records.v1.dlq'), 'retention.ms'), '9000');
  });

  it('applies the environment prefix to every name', () => {
    const prefixed = plannedTopics({ ...config, names: createTopicNames('staging.'), only: [topics.tokens] });
    assert.deepEqual(
      prefixed.map((t) => t.topic),
      ['staging.qbo.tokens.v1', 'staging.qbo.tokens.v1.dlq'],
    );
  });
});
