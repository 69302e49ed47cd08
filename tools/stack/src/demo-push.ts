import { createEventProducer, createSerde, createTopicNames } from '@qbo/event-bus';
import { createEventFactory, UpsertRecord } from '@qbo/events';
import { Kafka, logLevel } from 'kafkajs';
import { type Demo, expectStatus, until } from './demo-kit.js';
import { accessToken } from './demo-rotation.js';

interface Push {
  status: string;
  applied: string | null;
  entityId: string | null;
  code: string | null;
  /** The RecordPushed event's data: the record's id at Intuit for a create. */
  result: { entityId?: string } | null;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => quiet };

/**
 * The platform writes back: an UpsertRecord command on qbo.commands.v1 (its id the idempotency key), which
 * sync-service pushes to QuickBooks; the new customer is then read at Intuit itself. Returns its id.
 */
export async function pushCreates(d: Demo, connectionId: string, realmId: string): Promise<string> {
  const kafka = new Kafka({
    clientId: 'stack-demo',
    brokers: d.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = createEventProducer({
    kafka,
    serde: createSerde({ registryUrl: process.env.SCHEMA_REGISTRY_URL }),
    log: quiet as never,
    names: createTopicNames(process.env.KAFKA_TOPIC_PREFIX),
  });
  const name = `Pushed from the platform ${Date.now()}`;
  const command = createEventFactory({ source: 'stack-demo' })(UpsertRecord, {
    orgId: d.orgId,
    data: { connectionId, entity: 'Customer', sparse: true, payload: { DisplayName: name } },
  });
  await producer.connect();
  try {
    await producer.publish(command);
  } finally {
    await producer.disconnect();
  }
  const push = await until(
    async () => {
      const res = await fetch(`${d.sync}/pushes/${command.id}`, { headers: { authorization: d.orgBearer } });
      return res.status === 200 ? ((await res.json()) as Push) : undefined;
    },
    (p) => p !== undefined && p.status !== 'pending',
    'the push’s outcome',
  );
  const entityId = push?.entityId ?? push?.result?.entityId;
  if (push?.status !== 'pushed' || !entityId)
    throw new Error(`the push ended ${push?.status} ${push?.code ?? ''}`);
  const token = await accessToken(d, connectionId);
  const read = await fetch(`${d.sim}/v3/company/${realmId}/customer/${entityId}`, {
    headers: { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' },
  });
  await expectStatus(read, 200, 'read the pushed customer at Intuit');
  const body = (await read.json()) as { Customer?: { DisplayName?: string } };
  if (body.Customer?.DisplayName !== name) throw new Error('QuickBooks holds another name for the push');
  d.step(
    `UpsertRecord on qbo.commands.v1 → sync-service ${push.applied} Customer ${entityId} in QuickBooks ` +
      `(read back at Intuit: "${name}")`,
  );
  return entityId;
}
