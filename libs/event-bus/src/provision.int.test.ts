import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topics } from '@qbo/events';
import { createKafka } from '@qbo/service-kit';
import { testBrokers, uniqueName } from '@qbo/testkit';
import kafkajs, { type Admin } from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;

import { provisionTopics } from './provision.js';
import { testLogger } from './testing/bus.js';
import { createTopicNames } from './topic-names.js';

describe('provisionTopics on the real broker', () => {
  let admin: Admin;
  const names = createTopicNames(`${uniqueName('prov')}.`);
  const config = {
    names,
    only: [topics.tokens, topics.webhooksParked],
    partitions: 2,
    replicationFactor: 1,
    retentionMs: 3_600_000,
    parkingRetentionMs: 7_200_000,
    dlqRetentionMs: 10_800_000,
  };

  before(async () => {
    admin = createKafka({ brokers: testBrokers(), clientId: 'provision-test', log: testLogger() }).admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
  });

  it('creates the topics with their partitions and retention, and creates nothing the second time', async () => {
    const created = await provisionTopics({ admin, ...config });
    assert.deepEqual(
      created.sort(),
      [names.physical(topics.tokens), names.dlq(topics.tokens), names.physical(topics.webhooksParked)].sort(),
    );
    assert.deepEqual(await provisionTopics({ admin, ...config }), []);

    const meta = await admin.fetchTopicMetadata({ topics: [names.physical(topics.tokens)] });
    assert.equal(meta.topics[0]?.partitions.length, 2);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: names.physical(topics.webhooksParked) },
        { type: ConfigResourceTypes.TOPIC, name: names.dlq(topics.tokens) },
      ],
    });
    const retention = (name: string) =>
      described.resources
        .find((r) => r.resourceName === name)
        ?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
    assert.equal(retention(names.physical(topics.webhooksParked)), '7200000');
    assert.equal(retention(names.dlq(topics.tokens)), '10800000');
  });
});
