import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '@qbo/qbo-simulator/testing';
import { createTestDatabase, type ServiceProcess, startProcess, testBrokers, uniqueName } from '@qbo/testkit';
import type { TokenServiceClient } from '@qbo/token-api';
import { clientAsCallers, storeRequestFor } from '@qbo/token-api/testing';
import type { SimulatorUnderTest } from './simulator-control.js';

/**
 * Services never import each other, so the token-service is run from its build output, as the stack command
 * and production run it: `npm run build` builds every package.
 */
const entry = new URL('../../../token-service/dist/main.js', import.meta.url);
const preload = new URL('../../../token-service/dist/telemetry.js', import.meta.url);

export interface RunningTokenService {
  process: ServiceProcess;
  /** sync-service's own credential there, for a sync-service process to present. */
  credential: string;
  /**
   * A token-api client that reads tokens with sync-service's credential, as sync-service configures it, and
   * stores grants with auth-service's, as auth-service would.
   */
  client(): TokenServiceClient;
  stop(): Promise<void>;
}

/** The real token-service as its own process, on its own database and topics, with the simulator as Intuit. */
export async function startTokenService(sim: SimulatorUnderTest): Promise<RunningTokenService> {
  if (!existsSync(entry)) throw new Error(`${fileURLToPath(entry)} is missing: run \`npm run build\` first`);
  const credential = randomBytes(24).toString('base64url');
  const authCredential = randomBytes(24).toString('base64url');
  const db = await createTestDatabase('sync_tokens');
  const proc = await startProcess({
    entry: fileURLToPath(entry),
    preload: fileURLToPath(preload),
    env: {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC_PREFIX: `${uniqueName('sync-tokens')}.`,
      KAFKA_TOPIC_PARTITIONS: '1',
      PORT: '0',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '10000',
      TOKEN_API_CALLERS: `sync-service=${credential};auth-service=${authCredential}`,
      TOKEN_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      TOKEN_ACTIVE_KEY_ID: 'k1',
      QBO_CLIENT_ID: 'sim-client-id',
      QBO_CLIENT_SECRET: 'sim-client-secret',
      QBO_OAUTH_BASE_URL: sim.url,
    },
  }).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  return {
    process: proc,
    credential,
    client: () => clientAsCallers(proc.url, { 'sync-service': credential, 'auth-service': authCredential }),
    async stop() {
      await proc.stop();
      await db.drop();
    },
  };
}

/**
 * Connects a realm at the simulator (consent and code exchange over HTTP) and hands the grant to the
 * token-service under a new connection id, as auth-service does.
 */
export async function storeGrant(
  sim: SimulatorUnderTest,
  tokens: TokenServiceClient,
  realmId: string,
  orgId = `org-${randomBytes(4).toString('hex')}`,
): Promise<{ connectionId: string; accessToken: string; refreshToken: string }> {
  await sim.approveNext(realmId);
  const grant = await connect({ url: sim.url });
  if (grant.realmId !== realmId) throw new Error(`consent gave realm ${grant.realmId}, not ${realmId}`);
  const connectionId = randomUUID();
  await tokens.storeCredentials(connectionId, storeRequestFor(grant, { orgId }));
  return { connectionId, accessToken: grant.accessToken, refreshToken: grant.refreshToken };
}
