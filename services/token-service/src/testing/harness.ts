import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { EventProducer } from '@qbo/event-bus';
import { createTestBus, createTestProducer, type TestBus } from '@qbo/event-bus/testing';
import { ConnectionDisconnected, createEventFactory } from '@qbo/events';
import { createSimulator, type Simulator, type SimulatorOptions } from '@qbo/qbo-simulator';
import { connect } from '@qbo/qbo-simulator/testing';
import { runService } from '@qbo/service-kit';
import {
  createTestDatabase,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
} from '@qbo/testkit';
import { createTokenServiceClient, type TokenApiCaller, type TokenServiceClient } from '@qbo/token-api';
import { clientAsCallers, storeRequestFor } from '@qbo/token-api/testing';
import type { TokenMetrics } from '../metrics.js';
import type { Scheduler } from '../refresh/scheduler.js';
import type { TokenManager } from '../refresh/token-manager.js';
import { createTokenService } from '../service.js';

export { waitFor } from '@qbo/testkit';
/** Each caller's own credential, as production gives each service its own. */
export const CALLER_CREDENTIALS = {
  'auth-service': 'auth-credential-for-tests-0001',
  'sync-service': 'sync-credential-for-tests-0001',
  operator: 'operator-credential-for-tests-01',
} as const satisfies Record<TokenApiCaller, string>;
export const callersEnv = Object.entries(CALLER_CREDENTIALS)
  .map(([caller, secret]) => `${caller}=${secret}`)
  .join(';');
export const key = () => randomBytes(32).toString('base64');

const root = new URL('../../', import.meta.url);

export interface Env {
  db: TestDatabase;
  bus: TestBus;
  sim: Simulator;
  close(): Promise<void>;
}

/** The topics the service reads and writes, under a fresh prefix. */
export const createBus = (): Promise<TestBus> =>
  createTestBus({ topics: ['qbo.tokens.v1', 'qbo.connections.v1'] });

/** A database, topics under a fresh prefix and a simulator as Intuit, for one suite. */
export async function createEnv(label: string, sim: SimulatorOptions = {}): Promise<Env> {
  const [db, bus, simulator] = await Promise.all([
    createTestDatabase(label),
    createBus(),
    createSimulator({ consent: 'auto', seed: { seed: 3, companies: 2, records: 0 }, ...sim }),
  ]);
  return {
    db,
    bus,
    sim: simulator,
    async close() {
      await simulator.close();
      await db.drop();
    },
  };
}

/** The service's environment for a suite, as production would set it (plus short test timings). */
export function serviceEnv(env: Env, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: env.db.url,
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_TOPIC_PREFIX: env.bus.prefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
    SHUTDOWN_TIMEOUT_MS: '10000',
    TOKEN_API_CALLERS: callersEnv,
    QBO_CLIENT_ID: 'sim-client-id',
    QBO_CLIENT_SECRET: 'sim-client-secret',
    QBO_OAUTH_BASE_URL: env.sim.url,
    QBO_TOKEN_TIMEOUT_MS: '3000',
    SCHEDULER_INTERVAL_MS: '200',
    // Suites here force refreshes back to back on purpose; the throttle has its own tests, which set it.
    TOKEN_FORCED_REFRESH_INTERVAL_MS: '1',
    ...extra,
  };
}

export interface InProcessService {
  url: string;
  client: TokenServiceClient;
  tokens: TokenManager;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

/**
 * The service in this process (several may share a database as replicas), on the clock given: the
 * simulator's virtual clock lets a test walk through a 30-minute outage in seconds.
 */
export async function startInProcess(
  env: Record<string, string>,
  options: { now?: () => number; metrics?: TokenMetrics } = {},
): Promise<InProcessService> {
  let internals: { tokens: TokenManager; scheduler: Scheduler } | undefined;
  const running = await runService(
    createTokenService({
      ...(options.now ? { now: options.now } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      onWired: (i) => {
        internals = i;
      },
    }),
    {
      env: { ...env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' },
      telemetry: { shutdown: async () => {} },
      exit: () => {},
    },
  );
  if (!running || !internals) throw new Error('the token-service did not start');
  const url = `http://127.0.0.1:${running.port}`;
  return {
    url,
    client: clientFor(url),
    ...internals,
    stop: () => running.shutdown.run('test done'),
  };
}

/** The service as its own process, as production runs it. */
export function startChild(env: Record<string, string>, waitForStart = true): Promise<ServiceProcess> {
  return startProcess({
    entry: fileURLToPath(new URL('dist/main.js', root)),
    preload: fileURLToPath(new URL('dist/telemetry.js', root)),
    env,
    waitForStart,
  });
}

/** A client that calls each operation as the caller the contract allows it (auth-service stores, sync reads). */
export const clientFor = (url: string, timeoutMs = 30_000) =>
  clientAsCallers(url, CALLER_CREDENTIALS, timeoutMs);

/** A client presenting one caller's credential for everything, as that service (or a thief of it) would. */
export const clientAs = (url: string, caller: TokenApiCaller) =>
  createTokenServiceClient({ baseUrl: url, credential: () => CALLER_CREDENTIALS[caller], timeoutMs: 30_000 });

export interface Connected {
  connectionId: string;
  orgId: string;
  realmId: string;
  accessToken: string;
  refreshToken: string;
}

/** Runs a real consent and code exchange at the simulator and stores the grant, as auth-service would. */
export async function connectAndStore(
  sim: Simulator,
  client: TokenServiceClient,
  realmId?: string,
  existing?: Pick<Connected, 'connectionId' | 'orgId'>,
): Promise<Connected> {
  const tokens = await connect(sim, realmId ?? sim.control.companies()[0]?.realmId);
  const connectionId = existing?.connectionId ?? randomUUID();
  const orgId = existing?.orgId ?? `org-${randomBytes(4).toString('hex')}`;
  const now = sim.control.clock.now();
  await client.storeCredentials(
    connectionId,
    storeRequestFor(tokens, { orgId, now, scopes: ['com.intuit.quickbooks.accounting', 'openid'] }),
  );
  return { connectionId, orgId, ...tokens };
}

/**
 * The HTTP status of a refresh sent straight to the simulator's token endpoint with the app's credentials,
 * bypassing token-service: 400 once Intuit no longer honours the refresh token.
 */
export async function refreshStatusAtIntuit(sim: Simulator, refreshToken: string): Promise<number> {
  const res = await fetch(`${sim.url}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('sim-client-id:sim-client-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  await res.body?.cancel();
  return res.status;
}

/** Calls to the simulator's token endpoint, across realms (a rotated-out token has none). */
export function tokenCalls(sim: Simulator): number {
  return Object.values(sim.control.counters()).reduce(
    (sum, endpoints) => sum + (endpoints.token?.calls ?? 0),
    0,
  );
}

export const connectionsProducer = createTestProducer;

export async function publishDisconnect(producer: EventProducer, c: Connected, revokedAtIntuit: boolean) {
  const events = createEventFactory({ source: 'auth-service' });
  await producer.publish(
    events(ConnectionDisconnected, {
      orgId: c.orgId,
      realmId: c.realmId,
      data: {
        connectionId: c.connectionId,
        realmId: c.realmId,
        reason: 'user_requested',
        revokedAtIntuit,
        disconnectedAt: new Date().toISOString(),
      },
    }),
  );
}

export interface Collector {
  events: { type: string; data: Record<string, unknown> }[];
  of(type: string, connectionId?: string): { type: string; data: Record<string, unknown> }[];
  stop(): Promise<void>;
}

/** Reads the token topic from the beginning for the rest of the suite, decoding each event. */
export async function collectTokenEvents(bus: TestBus): Promise<Collector> {
  const events: Collector['events'] = [];
  const consumer = bus.kafka.consumer({ groupId: `collector-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: bus.names.physical('qbo.tokens.v1'), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      events.push(JSON.parse(String(message.value)) as Collector['events'][number]);
    },
  });
  return {
    events,
    of: (type, connectionId) =>
      events.filter(
        (e) => e.type === type && (connectionId === undefined || e.data.connectionId === connectionId),
      ),
    stop: () => consumer.disconnect(),
  };
}

/** Token metrics kept in memory, so a test can assert what was counted. */
export function recordingMetrics(): TokenMetrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  return {
    counts,
    intuitCall: (outcome) => add(`refresh:${outcome}`),
    intuitRevoke: (outcome) => add(`revoke:${outcome}`),
    scheduledRefreshError: (error) => add(`scheduler_error:${error}`),
    appPause: (state) => add(`app_pause:${state}`),
    eventRefused: (event, reason) => add(`refused:${event}:${reason}`),
    shredRevoke: (outcome) => add(`shred_revoke:${outcome}`),
  };
}
