import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readToEnd, uniqueName } from '@qbo/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { answers, start, status, stop } from './broker.js';

// A second broker on its own ports and folder, so the suite's shared broker is left alone.
const options = { port: 29192, controllerPort: 29193, runDir: mkdtempSync(join(tmpdir(), 'local-kafka-')) };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local Kafka broker command', () => {
  after(async () => {
    await stop(options);
  });

  it('starts a broker that answers, is harmless to start twice, and stops leaving no process', async () => {
    const first = await start(options);
    assert.equal(first.started, true);
    assert.ok(await answers(first.address));
    const second = await start(options);
    assert.equal(second.started, false);
    assert.equal(second.pid, first.pid);
    assert.deepEqual(await status(options), { state: 'running', pid: first.pid, address: first.address });

    assert.equal(await stop(options), true);
    assert.equal(alive(first.pid), false);
    assert.deepEqual(await status(options), { state: 'stopped' });
    assert.equal(await answers(first.address, 500), false);
    assert.equal(await stop(options), false, 'stopping a stopped broker is a no-op');
  });

  it('restarts on the data it kept: its topics, their messages and a group’s committed offsets', async () => {
    const first = await start(options);
    const kafka = new Kafka({
      clientId: 'restart-test',
      brokers: [first.address],
      logLevel: logLevel.NOTHING,
    });
    const topic = uniqueName('kept');
    const groupId = uniqueName('kept-group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 6 }, (_, i) => ({ key: `k${i % 3}`, value: `message-${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();
    assert.equal(await stop(options), true);

    const second = await start(options);
    assert.equal(second.started, true);
    assert.notEqual(second.pid, first.pid, 'a new broker process');
    const again = kafka.admin();
    await again.connect();
    try {
      assert.ok((await again.listTopics()).includes(topic), 'the topic is still there');
      const kept = await readToEnd(topic, { kafka });
      assert.deepEqual(
        kept.map(({ message }) => String(message.value)).sort(),
        sent.map((m) => m.value).sort(),
        'every message, once',
      );
      const [committed] = await again.fetchOffsets({ groupId, topics: [topic] });
      assert.equal(committed?.partitions.find((p) => p.partition === 0)?.offset, '1', 'the group’s offset');
    } finally {
      await again.disconnect();
    }
    await stop(options);
  });
});
