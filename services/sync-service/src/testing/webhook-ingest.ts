import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';

/** Services never import each other: webhook-ingest runs from its build output, as the stack command runs it. */
const entry = new URL('../../../webhook-ingest/dist/main.js', import.meta.url);
const preload = new URL('../../../webhook-ingest/dist/telemetry.js', import.meta.url);

export interface RunningWebhookIngest {
  process: ServiceProcess;
  /** Where Intuit (the simulator) delivers. */
  url: string;
  /** The verifier token the deliveries are signed with (a secret). */
  verifierToken: string;
  /** Waits until it has learned from the connection events which org holds the realm. */
  linked(realmId: string): Promise<void>;
  stop(): Promise<void>;
}

/** The real webhook-ingest as its own process, on its own database and the sync stack's topics. */
export async function startWebhookIngest(
  topicPrefix: string,
  env: Record<string, string> = {},
): Promise<RunningWebhookIngest> {
  if (!existsSync(entry)) throw new Error(`${fileURLToPath(entry)} is missing: run \`npm run build\` first`);
  const verifierToken = randomBytes(24).toString('base64url');
  const db: TestDatabase = await createTestDatabase('sync_webhooks');
  const proc = await startProcess({
    entry: fileURLToPath(entry),
    preload: fileURLToPath(preload),
    env: {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      KAFKA_TOPIC_PARTITIONS: '1',
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      SHUTDOWN_TIMEOUT_MS: '10000',
      WEBHOOK_VERIFIER_TOKENS: verifierToken,
      ...env,
    },
  }).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  return {
    process: proc,
    url: `${proc.url}/webhooks/quickbooks`,
    verifierToken,
    linked: async (realmId) => {
      await waitFor(
        async () =>
          (await db.query('select 1 from webhook.realm_org where realm_id = $1 and active', [realmId]))
            .length > 0,
        { timeoutMs: 60_000, what: `webhook-ingest linking ${realmId}` },
      );
    },
    async stop() {
      await proc.stop();
      await db.drop();
    },
  };
}
