import { randomUUID } from 'node:crypto';
import {
  createEventConsumer,
  createInbox,
  createOutbox,
  createSerde,
  createTracedEventFactory,
  exactlyOnce,
  provisionFromConfig,
  runConsumer,
  runOutboxRelay,
} from '@qbo/event-bus';
import {
  budgetLimits,
  createApiLogWriter,
  createBudget,
  createQboClient,
  createRedisBudgetStore,
  mikroOrmApiLogStore,
} from '@qbo/qbo-client';
import { phase, type ServiceDefinition } from '@qbo/service-kit';
import { createTokenServiceClient } from '@qbo/token-api';
import { Redis } from 'ioredis';
import { type Config, configSchema } from './config.js';
import { declsFor } from './domain/entities.js';
import { syncHandlers } from './kafka/handlers.js';
import { createFeedWriter } from './store/feed-events.js';
import { migrations } from './store/migrations.js';
import { type Em, query } from './store/sql.js';
import { createRunner } from './sync/runner.js';
import { createWorker } from './sync/worker.js';
import { createTokenApiProvider } from './tokens/token-api-provider.js';

const GROUP = 'sync-service';

/**
 * The sync: consumers record what should be synced (connections, notifications, commands), the worker claims
 * due companies and syncs them under their org's lease, and the relay publishes what the runs wrote.
 */
export const service: ServiceDefinition<Config> = {
  name: 'sync-service',
  schema: 'sync',
  configSchema,
  migrations,
  async wire({ config, log, orm, kafka, admin, onShutdown }) {
    const names = await provisionFromConfig(admin, config);
    const serde = createSerde({ registryUrl: config.SCHEMA_REGISTRY_URL });
    const events = createTracedEventFactory({ source: 'sync-service' });
    const outbox = createOutbox({ schema: 'sync', maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES });
    const entities = declsFor(config.SYNC_ENTITIES);

    const redis = new Redis(config.REDIS_URL.reveal(), { maxRetriesPerRequest: 1, lazyConnect: false });
    redis.on('error', (err: Error) =>
      log.warn({ errorCode: (err as { code?: string }).code }, 'redis error'),
    );
    onShutdown({ name: 'redis', phase: phase.connections, run: async () => void (await redis.quit()) });
    const apiLog = createApiLogWriter({ store: mikroOrmApiLogStore(orm), log });
    onShutdown({ name: 'api-log', phase: phase.producers, run: () => apiLog.close() });

    const credential = config.TOKEN_SERVICE_CREDENTIAL;
    const qbo = createQboClient({
      baseUrl: config.QBO_API_BASE_URL,
      tokens: createTokenApiProvider({
        tokens: createTokenServiceClient({
          baseUrl: config.TOKEN_SERVICE_URL,
          credential: () => credential.reveal(),
        }),
        connectionOf: async (realmId) => {
          const rows = await query<{ connection_id: string }>(
            orm.em.fork() as unknown as Em,
            `select connection_id::text from sync_target where realm_id = $1 and status = 'active'`,
            [realmId],
          );
          return rows[0]?.connection_id;
        },
      }),
      budget: createBudget({
        store: createRedisBudgetStore({ redis, namespace: 'qbo-budget', limits: budgetLimits() }),
      }),
      apiLog,
      log,
    });

    const runner = createRunner({
      orm,
      qbo,
      feed: createFeedWriter({ outbox, events, maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES }),
      outbox,
      events,
      log,
      options: {
        pageSize: config.SYNC_PAGE_SIZE,
        marginMs: config.SYNC_CURSOR_MARGIN_MS,
        leaseTtlMs: config.SYNC_LEASE_TTL_MS,
        intervalMs: config.SYNC_INTERVAL_MS,
        reconcileIntervalMs: config.SYNC_RECONCILE_INTERVAL_MS,
        cdcWindowMs: config.SYNC_CDC_WINDOW_MS,
        retryBaseMs: config.SYNC_RETRY_BASE_MS,
        retryMaxMs: config.SYNC_RETRY_MAX_MS,
      },
    });
    const worker = createWorker({
      orm,
      runner,
      log,
      holder: `${GROUP}:${randomUUID()}`,
      maxConcurrent: config.SYNC_MAX_CONCURRENT_RUNS,
      pollMs: config.SYNC_POLL_MS,
      leaseTtlMs: config.SYNC_LEASE_TTL_MS,
    });

    runOutboxRelay(
      { connectionString: config.DATABASE_URL, schema: 'sync', kafka, serde, log, names },
      onShutdown,
    );
    const inbox = createInbox({ schema: 'sync', group: GROUP });
    const consumer = createEventConsumer({
      kafka,
      groupId: `${config.KAFKA_TOPIC_PREFIX ?? ''}${GROUP}`,
      serde,
      log,
      names,
      handlers: syncHandlers({
        once: (fn) => exactlyOnce(orm, inbox, (event, { em }) => fn(event as never, em as unknown as Em)),
        entities,
        debounceMs: config.SYNC_WEBHOOK_DEBOUNCE_MS,
        log,
      }),
    });
    runConsumer(consumer, 'sync-consumer', onShutdown);
    worker.start();
    onShutdown({ name: 'sync-worker', phase: phase.consumers, run: () => worker.stop() });
  },
};
