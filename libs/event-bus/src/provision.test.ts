import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topics } from '@qbo/events';
import type { Admin } from 'kafkajs';
import { plannedTopics, provisionTopics } from './provision.js';
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

  it('plans every contract topic, a DLQ for each consumed org stream, and the audit and parking topics without one', () => {
    assert.deepEqual(planned.map((t) => t.topic).sort(), [
      'qbo.commands.v1',
      'qbo.commands.v1.dlq',
      'qbo.connections.audit.v1',
      'qbo.connections.v1',
      'qbo.connections.v1.dlq',
      'qbo.records.state.v1',
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
    assert.equal(setting(records, 'segment.ms'), '1000', 'a segment no longer than the retention');
    assert.equal(setting(records, 'min.insync.replicas'), '2');
    assert.equal(setting(entry(planned, topics.webhooksParked), 'retention.ms'), '5000');
    assert.equal(setting(entry(planned, 'qbo.records.v1.dlq'), 'retention.ms'), '9000');
  });

  it('compacts the state topic with its own settings and no DLQ, and keeps the log topic on retention', () => {
    const state = entry(planned, topics.recordsState);
    assert.equal(setting(state, 'cleanup.policy'), 'compact');
    assert.equal(setting(state, 'min.compaction.lag.ms'), '3600000');
    assert.equal(setting(state, 'delete.retention.ms'), String(7 * 86_400_000));
    assert.equal(setting(state, 'segment.ms'), '86400000');
    assert.equal(setting(state, 'max.compaction.lag.ms'), '86400000');
    assert.equal(setting(state, 'retention.ms'), undefined);
    assert.equal(entry(planned, 'qbo.records.state.v1.dlq'), undefined);
    assert.equal(setting(entry(planned, topics.records), 'cleanup.policy'), 'delete');
    const tuned = plannedTopics({
      ...config,
      only: [topics.recordsState],
      compaction: { minCompactionLagMs: 0, segmentMs: 100 },
    });
    assert.equal(setting(tuned[0], 'min.compaction.lag.ms'), '0');
    assert.equal(setting(tuned[0], 'segment.ms'), '100');
    assert.equal(setting(tuned[0], 'max.compaction.lag.ms'), '86400000');
    assert.equal(setting(tuned[0], 'delete.retention.ms'), String(7 * 86_400_000));
  });

  it('gives every topic the configured message limit, Kafka’s usual 1 MiB by default', () => {
    for (const t of planned) assert.equal(setting(t, 'max.message.bytes'), '1048576', t.topic);
    const larger = plannedTopics({ ...config, maxMessageBytes: 2_000_000 });
    for (const t of larger) assert.equal(setting(t, 'max.message.bytes'), '2000000', t.topic);
  });

  it('applies the environment prefix to every name', () => {
    const prefixed = plannedTopics({ ...config, names: createTopicNames('staging.'), only: [topics.tokens] });
    assert.deepEqual(
      prefixed.map((t) => t.topic),
      ['staging.qbo.tokens.v1', 'staging.qbo.tokens.v1.dlq'],
    );
  });
});

describe('provisionTopics against a busy broker', () => {
  /** An admin whose first leader wait fails retriably after the topics were created, as a loaded broker's does. */
  function flakyAdmin(failure: { retriable: boolean }) {
    const topicsNow = new Set<string>();
    const calls: string[][] = [];
    const admin = {
      listTopics: async () => [...topicsNow],
      createTopics: async ({ topics: list }: { topics: { topic: string }[] }) => {
        calls.push(list.map((t) => t.topic));
        for (const t of list) topicsNow.add(t.topic);
        if (calls.length === 1)
          throw Object.assign(new Error('This server does not host this topic-partition'), failure);
        return true;
      },
    } as unknown as Admin;
    return { admin, calls };
  }

  it('looks again after a retriable failure and reports every topic it created once', async () => {
    const { admin, calls } = flakyAdmin({ retriable: true });
    const created = await provisionTopics({ admin, ...config, only: [topics.webhooks] });
    assert.deepEqual(created.sort(), ['qbo.webhooks.v1', 'qbo.webhooks.v1.dlq']);
    assert.equal(calls.length, 1, 'the topics existed by the second look; nothing was created twice');
  });

  it('gives up at once on an error that is not retriable', async () => {
    const { admin } = flakyAdmin({ retriable: false });
    await assert.rejects(provisionTopics({ admin, ...config, only: [topics.webhooks] }), /does not host/);
  });
});
