import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createEventProducer, createSerde, type Serde } from '@qbo/event-bus';
import { createTestBus, type TestBus } from '@qbo/event-bus/testing';
import {
  type AnyEnvelope,
  ConnectionEstablished,
  createEventFactory,
  EntityChangeNotified,
  type PauseSync,
  RequestSync,
  type ResumeSync,
  RetryRunErrors,
  RetrySyncError,
  type SetSyncInterval,
  topics,
} from '@qbo/events';
import {
  createTestDatabase,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import type { z } from 'zod';
import { ORG_JWT_ENV } from './org-tokens.js';
import type { SimulatorUnderTest } from './simulator-control.js';
import { type RunningTokenService, startTokenService, storeGrant } from './token-service.js';

export type ControlCommand =
  | typeof PauseSync
  | typeof ResumeSync
  | typeof SetSyncInterval
  | typeof RequestSync;

const root = new URL('../../', import.meta.url);
const entry = fileURLToPath(new URL('dist/main.js', root));
const preload = fileURLToPath(new URL('dist/telemetry.js', root));

/**
 * The sync as it runs: the simulator as Intuit, the real token-service, and sync-service processes on their
 * own database and topics. Tests play auth-service by storing a grant and publishing `ConnectionEstablished`.
 */
export interface SyncStack {
  sim: SimulatorUnderTest;
  tokens: RunningTokenService;
  db: TestDatabase;
  bus: TestBus;
  /** Every sync-service process started, stopped and killed ones included (their output stays readable). */
  replicas: readonly ServiceProcess[];
  /** The secrets the stack handed out: the service credential and each grant's access and refresh token. */
  secrets: readonly string[];
  /** Starts a sync-service replica (several may run at once on the same database). */
  startReplica(env?: Record<string, string>): Promise<ServiceProcess>;
  /** Connects a realm for an org as auth-service would; resolves with the connection id. */
  connect(realmId: string, orgId: string): Promise<string>;
  /** Publishes a `RequestSync` command, as any platform service may (for some entities when named). */
  requestSync(
    orgId: string,
    connectionId: string,
    mode: 'incremental' | 'full' | 'reconciliation',
    entities?: readonly string[],
  ): Promise<void>;
  /**
   * Publishes a control command (`PauseSync`, `ResumeSync`, `SetSyncInterval`, `RequestSync`) as any platform
   * service may, for whatever org and connection it names; resolves with the command's id.
   */
  command<D extends ControlCommand>(def: D, orgId: string, data: z.input<D['data']>): Promise<string>;
  /** The answer on `qbo.sync-runs.v1` to a command (the event whose `data.commandId` is its id), once published. */
  answerTo(commandId: string, timeoutMs?: number): Promise<AnyEnvelope>;
  /** Publishes a `RetrySyncError` command for one error row; resolves with the command's id. */
  retryError(orgId: string, connectionId: string, errorId: string): Promise<string>;
  /** Publishes a `RetryRunErrors` command for one run; resolves with the command's id. */
  retryRun(orgId: string, connectionId: string, syncRunId: string): Promise<string>;
  /** Publishes these events as they are, in one send: the same envelope twice is a redelivery. */
  publish(events: readonly AnyEnvelope[]): Promise<void>;
  /** Publishes, in one send, what webhook-ingest would for Intuit's notifications of these records. */
  notify(orgId: string, realmId: string, changes: readonly NotifiedChange[]): Promise<void>;
  /** Waits until a run of the company reaches `status` and returns its row. */
  waitForRun(
    realmId: string,
    match: { mode?: string; status: 'completed' | 'failed'; after?: Date },
    timeoutMs?: number,
  ): Promise<RunRow>;
  /** Waits until the service has processed an event received after `since` (its inbox). */
  waitForInbox(since: Date, timeoutMs?: number): Promise<void>;
  /** Waits until the relay has published every outbox row written so far. */
  drained(timeoutMs?: number): Promise<void>;
  /** Waits until the company has no run in flight and no sync asked for. */
  idle(realmId: string): Promise<void>;
  /** Every message on a topic of this stack, decoded, from the beginning to its current end. */
  readAll(
    topic: string,
  ): Promise<{ key: string | null; value: AnyEnvelope | null; headers: Record<string, string> }[]>;
  stop(): Promise<void>;
}

export interface NotifiedChange {
  entity: string;
  entityId: string;
  operation: 'Create' | 'Update' | 'Delete' | 'Merge' | 'Void';
  lastUpdated: string;
  deletedId?: string;
}

export interface RunRow {
  run_id: string;
  mode: string;
  status: string;
  api_calls: number;
  upserted: number;
  deleted: number;
  unchanged: number;
  estimate_total: number | null;
  started_at: Date;
  finished_at: Date | null;
}

export const SYNC_TEST_ENV = {
  SYNC_POLL_MS: '100',
  SYNC_LEASE_TTL_MS: '3000',
  SYNC_WEBHOOK_DEBOUNCE_MS: '1000',
  SYNC_CURSOR_MARGIN_MS: '0',
  SYNC_RETRY_BASE_MS: '200',
  SYNC_INTERVAL_MS: '3600000',
} as const;

export interface SyncStackOptions {
  /** A schema registry: the replicas and this stack's producer and reader then use its wire format. */
  registryUrl?: string;
  /** Settings of the state topic, for a test that watches the broker compact it. */
  compaction?: {
    minCompactionLagMs?: number;
    segmentMs?: number;
    deleteRetentionMs?: number;
    maxCompactionLagMs?: number;
  };
}

export async function startSyncStack(
  sim: SimulatorUnderTest,
  opts: SyncStackOptions = {},
): Promise<SyncStack> {
  const tokens = await startTokenService(sim);
  const db = await createTestDatabase('sync');
  const bus = await createTestBus({
    partitions: 1,
    ...(opts.compaction ? { compaction: opts.compaction } : {}),
  });
  const serde = createSerde({ registryUrl: opts.registryUrl });
  const producer = createEventProducer({ kafka: bus.kafka, serde, log: bus.log, names: bus.names });
  await producer.connect();
  const credential = tokens.credential;
  const replicas: ServiceProcess[] = [];
  const secrets: string[] = [credential];
  const events = createEventFactory({ source: 'auth-service' });
  const commands = createEventFactory({ source: 'test-client' });
  const webhooks = createEventFactory({ source: 'webhook-ingest' });

  const stack: SyncStack = {
    sim,
    tokens,
    db,
    bus,
    replicas,
    secrets,
    async startReplica(env = {}) {
      const proc = await startProcess({
        entry,
        preload,
        env: {
          DATABASE_URL: db.url,
          KAFKA_BROKERS: testBrokers().join(','),
          KAFKA_TOPIC_PREFIX: bus.prefix,
          KAFKA_TOPIC_PARTITIONS: '1',
          PORT: '0',
          LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
          SHUTDOWN_TIMEOUT_MS: '10000',
          QBO_API_BASE_URL: sim.url,
          TOKEN_SERVICE_URL: tokens.process.url,
          TOKEN_SERVICE_CREDENTIAL: credential,
          REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          ...(opts.registryUrl ? { SCHEMA_REGISTRY_URL: opts.registryUrl } : {}),
          ...ORG_JWT_ENV,
          ...SYNC_TEST_ENV,
          ...env,
        },
      });
      replicas.push(proc);
      return proc;
    },
    async connect(realmId, orgId) {
      const { connectionId, accessToken, refreshToken } = await storeGrant(
        sim,
        tokens.client(),
        realmId,
        orgId,
      );
      secrets.push(accessToken, refreshToken);
      await producer.publish(
        events(ConnectionEstablished, {
          orgId,
          realmId,
          data: {
            connectionId,
            realmId,
            environment: 'sandbox',
            scopes: ['com.intuit.quickbooks.accounting'],
            connectedAt: new Date().toISOString(),
          },
        }),
      );
      return connectionId;
    },
    async requestSync(orgId, connectionId, mode, entities) {
      await producer.publish(
        commands(RequestSync, {
          orgId,
          data: { connectionId, mode, reason: 'test', ...(entities ? { entities: [...entities] } : {}) },
        }),
      );
    },
    async command(def, orgId, data) {
      const command = commands(def as ControlCommand, { orgId, data: data as never });
      await producer.publish(command);
      return command.id;
    },
    async answerTo(commandId, timeoutMs = 30_000) {
      let found: AnyEnvelope | undefined;
      await waitFor(
        async () => {
          found =
            (await readToEnd(bus, topics.syncRuns, serde))
              .map((m) => m.value)
              .find((v) => (v?.data as { commandId?: string } | undefined)?.commandId === commandId) ??
            undefined;
          return found !== undefined;
        },
        { timeoutMs, intervalMs: 200, what: `the answer to command ${commandId}` },
      );
      return found as AnyEnvelope;
    },
    async retryError(orgId, connectionId, errorId) {
      const command = commands(RetrySyncError, { orgId, data: { connectionId, errorId, reason: 'test' } });
      await producer.publish(command);
      return command.id;
    },
    async retryRun(orgId, connectionId, syncRunId) {
      const command = commands(RetryRunErrors, { orgId, data: { connectionId, syncRunId, reason: 'test' } });
      await producer.publish(command);
      return command.id;
    },
    async publish(list) {
      await producer.publish(list as never);
    },
    async notify(orgId, realmId, changes) {
      await producer.publish(
        changes.map((change) =>
          webhooks(EntityChangeNotified, {
            orgId,
            realmId,
            data: {
              notificationId: randomUUID(),
              format: 'cloudevents',
              realmId,
              ...change,
              receivedAt: new Date().toISOString(),
            },
          }),
        ),
      );
    },
    async waitForRun(realmId, match, timeoutMs = 90_000) {
      let found: RunRow | undefined;
      await waitFor(
        async () => {
          const rows = await db.query<RunRow>(
            `select run_id, mode, status, api_calls, upserted, deleted, unchanged, estimate_total, started_at,
               finished_at from sync.sync_run where realm_id = $1 and status = $2
               and ($3::text is null or mode = $3) and started_at > coalesce($4::timestamptz, '-infinity')
             order by started_at desc limit 1`,
            [realmId, match.status, match.mode ?? null, match.after?.toISOString() ?? null],
          );
          found = rows[0];
          return found !== undefined;
        },
        { timeoutMs, intervalMs: 100, what: `a ${match.mode ?? ''} run ${match.status} for ${realmId}` },
      );
      return found as RunRow;
    },
    async waitForInbox(since, timeoutMs = 30_000) {
      await waitFor(
        async () => {
          const rows = await db.query('select 1 from sync.inbox where processed_at >= $1 limit 1', [since]);
          return rows.length > 0;
        },
        { timeoutMs, intervalMs: 50, what: 'the event processed' },
      );
    },
    async idle(realmId) {
      await waitFor(
        async () =>
          (
            await db.query(
              `select 1 from sync.sync_target t where realm_id = $1 and wanted_at is null
                 and not exists (select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.status = 'running')`,
              [realmId],
            )
          ).length > 0,
        { timeoutMs: 60_000, intervalMs: 100, what: `${realmId} idle` },
      );
    },
    async drained(timeoutMs = 60_000) {
      await waitFor(
        async () => {
          const rows = await db.query<{ n: number }>(
            'select count(*)::int as n from sync.outbox where sent_at is null',
          );
          return rows[0]?.n === 0;
        },
        { timeoutMs, intervalMs: 100, what: 'the outbox published' },
      );
    },
    async readAll(topic) {
      return readToEnd(bus, topic, serde);
    },
    async stop() {
      await Promise.allSettled(replicas.map((r) => r.stop()));
      await producer.disconnect();
      await tokens.stop();
      await db.drop();
    },
  };
  return stack;
}

async function readToEnd(bus: TestBus, topic: string, serde: Serde) {
  const name = bus.names.physical(topic as never);
  const admin = bus.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(name);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const out: { key: string | null; value: AnyEnvelope | null; headers: Record<string, string> }[] = [];
  const consumer = bus.kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen = new Map<number, bigint>();
  // Plain JSON is parsed without the schema check, which would slow reading a large load's log.
  const decode = async (value: Buffer) =>
    (serde.format === 'json' ? JSON.parse(value.toString()) : await serde.decode(value)) as AnyEnvelope;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value;
        out.push({
          key: message.key?.toString() ?? null,
          value: value && value.length > 0 ? await decode(value) : null,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? '']),
          ),
        });
        seen.set(partition, BigInt(message.offset) + 1n);
      },
    });
    await waitFor(() => [...want].every(([p, high]) => high === 0n || (seen.get(p) ?? 0n) >= high), {
      timeoutMs: 60_000,
      what: `the end of ${name}`,
    });
    return out;
  } finally {
    await consumer.disconnect();
  }
}

export const newOrg = () => `org-${randomBytes(4).toString('hex')}`;
export { topics };
