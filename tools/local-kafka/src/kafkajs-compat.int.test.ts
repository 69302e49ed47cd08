import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBrokers, uniqueName, waitFor } from '@qbo/testkit';
import { type Admin, CompressionTypes, Kafka, logLevel } from 'kafkajs';

// kafkajs 2.2.4 was only ever tested upstream against Kafka 2.4; these are the features the platform relies
// on, proven against the broker version pinned in infra/kafka/pom.xml.
describe('kafkajs 2.2.4 against the pinned broker', () => {
  const kafka = new Kafka({ clientId: 'compat-test', brokers: testBrokers(), logLevel: logLevel.NOTHING });
  let admin: Admin;

  before(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
  });

  it('administers topics: create with settings, describe, add partitions, delete', async () => {
    const topic = uniqueName('compat-admin');
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: true,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]?.partitions.length, 3);
    const configs = await admin.describeConfigs({
      resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }],
      includeSynonyms: false,
    });
    assert.equal(configs.resources[0]?.configEntries[0]?.configValue, '3600000');
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    // Metadata reaches the broker that answers asynchronously: wait for it rather than race it.
    await waitFor(
      async () => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length === 4,
      { timeoutMs: 10_000, what: 'the fourth partition in the topic metadata' },
    );
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), {
      timeoutMs: 10_000,
      what: 'the deleted topic gone from the topic list',
    });
  });

  it('produces idempotently with acks=all and consumes in a group with committed offsets', async () => {
    const topic = uniqueName('compat-group');
    const groupId = uniqueName('compat-group');
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const keys = Array.from({ length: 20 }, (_, i) => `org-${i % 5}`);
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: keys.map((key, i) => ({ key, value: String(i), headers: { seq: String(i) } })),
    });

    const seen: { key: string; value: string; partition: number }[] = [];
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        seen.push({ key: String(message.key), value: String(message.value), partition });
        await consumer.commitOffsets([
          { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
        ]);
      },
    });
    await waitFor(() => seen.length === 20, { what: '20 messages', timeoutMs: 30_000 });
    await consumer.disconnect();

    for (const key of new Set(keys)) {
      const values = seen.filter((m) => m.key === key);
      assert.equal(new Set(values.map((m) => m.partition)).size, 1, `${key} stays on one partition`);
      const order = values.map((m) => Number(m.value));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `${key} keeps its order`,
      );
    }

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    assert.equal(committed, 20, 'every offset committed');
    const groups = await admin.describeGroups([groupId]);
    assert.equal(groups.groups[0]?.state, 'Empty');

    await producer.send({ topic, acks: -1, messages: [{ key: 'org-0', value: 'after-restart' }] });
    const resumed: string[] = [];
    const again = kafka.consumer({ groupId });
    await again.connect();
    await again.subscribe({ topic, fromBeginning: true });
    await again.run({ eachMessage: async ({ message }) => void resumed.push(String(message.value)) });
    await waitFor(() => resumed.length >= 1, { what: 'the new message' });
    await again.disconnect();
    await producer.disconnect();
    assert.deepEqual(resumed, ['after-restart'], 'a restarted member resumes from the committed offsets');
  });

  it('splits partitions between two members of one group', async () => {
    const topic = uniqueName('compat-rebalance');
    const groupId = uniqueName('compat-rebalance');
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    const assigned = new Map<string, number[]>();
    const members = ['a', 'b'].map((name) => {
      const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        assigned.set(name, e.payload.memberAssignment[topic] ?? []);
      });
      return consumer;
    });
    for (const member of members) {
      await member.connect();
      await member.subscribe({ topic, fromBeginning: true });
      await member.run({ eachMessage: async () => undefined });
    }
    await waitFor(
      () => {
        const all = [...assigned.values()];
        return all.length === 2 && all.every((p) => p.length === 2) && new Set(all.flat()).size === 4;
      },
      { what: 'two members holding two partitions each', timeoutMs: 30_000 },
    );
    await Promise.all(members.map((m) => m.disconnect()));
  });

  it('commits transactions atomically (read_committed sees only committed writes)', async () => {
    const topic = uniqueName('compat-tx');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: uniqueName('compat-tx'),
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'committed' }] });
    await committed.commit();
    await producer.disconnect();

    const values: string[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('compat-tx'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    await waitFor(() => values.length >= 1, { what: 'the committed message' });
    await consumer.disconnect();
    assert.deepEqual(values, ['committed']);
  });
});
