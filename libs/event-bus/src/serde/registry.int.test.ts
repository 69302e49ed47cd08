import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  type AnyEnvelope,
  type CatalogEvent,
  catalog,
  createEventFactory,
  definitions,
  TokenRotated,
  topics,
} from '@qbo/events';
import { sampleInputs } from '@qbo/events/testing';
import { uniqueName, waitFor } from '@qbo/testkit';
import { z } from 'zod';
import { createEventConsumer, type EventConsumer } from '../consumer/consumer.js';
import type { EventHandlers } from '../consumer/handlers.js';
import { createEventProducer, type EventProducer } from '../producer.js';
import { type RunningApicurio, startApicurio } from '../testing/apicurio.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { readTopic } from '../testing/read-topic.js';
import { createRegistrySerde, subjectOf } from './registry-serde.js';

const make = createEventFactory({ source: 'registry-test' });

describe('schema registry path against a real Apicurio Registry', () => {
  let registry: RunningApicurio;
  let bus: TestBus;
  let producer: EventProducer;
  let consumer: EventConsumer | undefined;

  before(async () => {
    registry = await startApicurio({ log: (line) => process.stdout.write(`[apicurio] ${line}\n`) });
    bus = await createTestBus();
    producer = createEventProducer({
      kafka: bus.kafka,
      serde: createRegistrySerde({ url: registry.url }),
      log: bus.log,
      names: bus.names,
    });
    await producer.connect();
  });
  after(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    await registry?.stop();
  });

  it('carries every catalog event through the registry wire format', async () => {
    // The newest version of each event: older ones are read upcast, so they would not come back as sent.
    const sent = definitions
      .filter((d) => catalog.latest(d.type) === d)
      .map((d) => make(d, sampleInputs[d.type] as never) as CatalogEvent);
    const received = new Map<string, AnyEnvelope>();
    const collect = async (e: AnyEnvelope) => void received.set(e.id, e);
    // A serde of its own: the consumer learns each schema from the registry by id, as another process would.
    consumer = createEventConsumer({
      kafka: bus.kafka,
      groupId: uniqueName('registry'),
      serde: createRegistrySerde({ url: registry.url }),
      log: bus.log,
      names: bus.names,
      handlers: Object.fromEntries(definitions.map((d) => [d.type, collect])) as EventHandlers,
    });
    await consumer.start();
    await producer.publish(sent);
    await waitFor(() => received.size >= sent.length, { timeoutMs: 60_000, what: 'every event back' });
    for (const e of sent) assert.deepEqual(received.get(e.id), e, `${e.type} round trip`);
    assert.equal(consumer.stats().deadLettered, 0);
  });

  it('writes magic byte 0 and the registered schema id on the real topic', async () => {
    const [raw] = await readTopic(bus.kafka, bus.names.physical(topics.tokens), 1);
    const value = raw?.message.value as Buffer;
    assert.equal(value[0], 0, 'magic byte');
    const type = JSON.parse(value.subarray(5).toString()).type as string;
    const subject = subjectOf(bus.names.physical(topics.tokens), type, 1);
    const latest = (await (
      await fetch(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`)
    ).json()) as { id: number };
    assert.equal(value.readInt32BE(1), latest.id, 'the int32 after it is the schema id of the subject');
  });

  it('lets an additive change of a version register and refuses a breaking one (BACKWARD)', async () => {
    const client = new SchemaRegistry(
      { host: registry.url },
      { [SchemaType.JSON]: { strict: false, validateFormats: false } },
    );
    const subject = uniqueName('compat');
    const register = (schema: z.ZodObject) =>
      client.register(
        { type: SchemaType.JSON, schema: JSON.stringify(z.toJSONSchema(schema, { target: 'draft-7' })) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      );
    const v1 = await register(TokenRotated.schema);
    const additive = TokenRotated.schema.extend({
      data: TokenRotated.data.extend({ scope: z.string().optional() }),
    });
    const added = await register(additive);
    assert.notEqual(added.id, v1.id);
    const breaking = TokenRotated.schema.extend({ data: TokenRotated.data.extend({ tenant: z.string() }) });
    await assert.rejects(register(breaking), /409|incompatible|compatib/i);
  });
});
