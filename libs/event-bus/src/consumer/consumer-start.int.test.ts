import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEventFactory, TokenRotated, topics } from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { uniqueName, waitFor } from '@qbo/testkit';
import { createEventProducer } from '../producer.js';
import { provisionTopics } from '../provision.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus } from '../testing/bus.js';
import { createEventConsumer } from './consumer.js';

const make = createEventFactory({ source: 'consumer-test' });
const serde = createJsonSerde();
const fastRetry = { attempts: 3, initialDelayMs: 20, maxDelayMs: 50 };

describe('a consumer starting on the real broker', () => {
  it('waits for its topics when the broker does not host them yet (as after a restart) instead of failing its start', async (t) => {
    // A bus whose topics do not exist yet: the broker answers "does not host this topic-partition".
    const bare = await createTestBus({ topics: [] });
    const event = make(TokenRotated, sampleInputs.TokenRotated);
    const seen: string[] = [];
    const consumer = createEventConsumer({
      kafka: bare.kafka,
      groupId: uniqueName('group'),
      serde,
      log: bare.log,
      names: bare.names,
      handlers: { TokenRotated: async (e) => void seen.push(e.id) },
      retry: fastRetry,
    });
    t.after(() => consumer.stop());
    const starting = consumer.start();
    let settled = false;
    void starting.finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(settled, false, 'still waiting for its topic, neither started nor failed');
    const admin = bare.kafka.admin();
    await admin.connect();
    try {
      await provisionTopics({
        admin,
        names: bare.names,
        only: [topics.tokens],
        partitions: 1,
        replicationFactor: 1,
        retentionMs: 3_600_000,
        parkingRetentionMs: 3_600_000,
        dlqRetentionMs: 3_600_000,
      });
    } finally {
      await admin.disconnect();
    }
    await starting;
    const late = createEventProducer({ kafka: bare.kafka, serde, log: bare.log, names: bare.names });
    await late.connect();
    await late.publish(event);
    await late.disconnect();
    await waitFor(() => seen.includes(event.id), { timeoutMs: 60_000, what: 'the event on the late topic' });
  });
});
