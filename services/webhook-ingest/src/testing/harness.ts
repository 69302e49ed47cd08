import { fileURLToPath } from 'node:url';
import type { EventProducer } from '@qbo/event-bus';
import { createTestProducer, type TestBus } from '@qbo/event-bus/testing';
import { ConnectionEstablished, createEventFactory, type EventOfType } from '@qbo/events';
import { type ServiceProcess, startProcess, type TestDatabase } from '@qbo/testkit';
import type { Kafka } from 'kafkajs';

export const OLD_TOKEN = 'verifier-token-being-retired';
export const NEW_TOKEN = 'verifier-token-now-in-use-01';

const root = new URL('../../', import.meta.url);

/** The service as its own process, on the test's database and topics, as production runs it. */
export function startIngest(
  db: TestDatabase,
  bus: TestBus,
  brokers: readonly string[],
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startProcess({
    entry: fileURLToPath(new URL('dist/main.js', root)),
    preload: fileURLToPath(new URL('dist/telemetry.js', root)),
    env: {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: bus.prefix,
      KAFKA_TOPIC_PARTITIONS: '3',
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      WEBHOOK_VERIFIER_TOKENS: `${OLD_TOKEN},${NEW_TOKEN}`,
      ...env,
    },
  });
}

/** What auth-service publishes when an org connects a realm (at `connectedAt`, now by default). */
export function connectionEstablished(
  orgId: string,
  realmId: string,
  { connectedAt = new Date(), source = 'auth-service' }: { connectedAt?: Date; source?: string } = {},
) {
  return createEventFactory({ source })(ConnectionEstablished, {
    orgId,
    realmId,
    data: {
      connectionId: crypto.randomUUID(),
      realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      connectedAt: connectedAt.toISOString(),
    },
  });
}

/** Publishes what auth-service would when an org connects a realm. */
export async function connectRealm(producer: EventProducer, orgId: string, realmId: string) {
  await producer.publish(connectionEstablished(orgId, realmId));
}

export const connectionsProducer = createTestProducer;

/** How many messages a topic holds: the sum of its partitions' high watermarks. */
export async function messageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export type Notified = EventOfType<'EntityChangeNotified'>;
export type Parked = EventOfType<'WebhookParked'>;

export const decode = <E>(value: Buffer | null): E => JSON.parse(String(value)) as E;
