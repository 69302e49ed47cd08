import { randomUUID } from 'node:crypto';
import { createServiceBus, exactlyOnce } from '@qbo/event-bus';
import { phase, runPeriodically, type ServiceDefinition } from '@qbo/service-kit';
import { createOrgVerifierFromConfig } from '@qbo/service-kit/org-auth';
import { type Config, configSchema } from './config.js';
import { declsFor, entityDecls } from './domain/entities.js';
import { erasureRoutes } from './http/erasures.js';
import { syncApiRoutes } from './http/routes.js';
import { createIntuitClient } from './intuit/client.js';
import { syncHandlers } from './kafka/handlers.js';
import { lifecycleHandlers, purgeAfterGrace } from './lifecycle/handlers.js';
import { createPurger } from './lifecycle/purger.js';
import { createRetention } from './lifecycle/retention.js';
import { createSyncMetrics, observeSyncState } from './metrics.js';
import { pushHandlers } from './push/on-command.js';
import { createFeedWriter } from './store/feed-events.js';
import { migrations } from './store/migrations.js';
import type { Em } from './store/sql.js';
import { createRunner } from './sync/runner.js';
import { createWorker } from './sync/worker.js';

/**
 * The sync: consumers record what should be synced (connections, notifications, commands), the worker claims
 * due companies and syncs them under their org's lease, the relay publishes what the runs wrote, and the API
 * (`src/http/`) shows runs and lets an org ask for a sync, pause, resume and set its companies' interval.
 */
export const service: ServiceDefinition<Config> = {
  name: 'sync-service',
  schema: 'sync',
  configSchema,
  migrations,
  async wire(deps) {
    const { config, log, orm, onShutdown, app } = deps;
    const bus = await createServiceBus(deps);
    const { events } = bus;
    const outbox = bus.outbox();
    const entities = declsFor(config.SYNC_ENTITIES);

    const metrics = createSyncMetrics();
    const { qbo, flushApiLog } = createIntuitClient(config, deps, metrics);
    const stopGauges = observeSyncState(orm);
    onShutdown({ name: 'sync-gauges', phase: phase.consumers, run: async () => stopGauges() });

    const runner = createRunner({
      orm,
      metrics,
      qbo,
      apiLogFlushed: flushApiLog,
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
        failureAlertAfter: config.SYNC_FAILURE_ALERT_AFTER,
        retryRecordIntervalMs: config.SYNC_RETRY_RECORD_INTERVAL_MS,
      },
    });
    const worker = createWorker({
      orm,
      runner,
      log,
      holder: `sync-service:${randomUUID()}`,
      maxConcurrent: config.SYNC_MAX_CONCURRENT_RUNS,
      pollMs: config.SYNC_POLL_MS,
      leaseTtlMs: config.SYNC_LEASE_TTL_MS,
    });

    bus.consume('sync', (inbox) => {
      const once: Parameters<typeof syncHandlers>[0]['once'] = (fn) =>
        exactlyOnce(orm, inbox, (event, { em }) => fn(event as never, em as unknown as Em));
      return {
        ...syncHandlers({
          once,
          entities,
          debounceMs: config.SYNC_WEBHOOK_DEBOUNCE_MS,
          log,
          outbox,
          events,
          intervals: {
            defaultMs: config.SYNC_INTERVAL_MS,
            minMs: config.SYNC_MIN_INTERVAL_MS,
            maxMs: config.SYNC_MAX_INTERVAL_MS,
          },
          onDisconnected: purgeAfterGrace(config.SYNC_DISCONNECT_GRACE_MS),
        }),
        ...lifecycleHandlers({ once, log }),
        ...pushHandlers({
          once,
          entities: entityDecls,
          windowMs: config.SYNC_PUSH_WINDOW_MS,
          outbox,
          events,
          log,
        }),
      };
    });
    const verifier = await createOrgVerifierFromConfig(config);
    syncApiRoutes(app, {
      orm,
      log,
      verifier,
      defaultIntervalMs: config.SYNC_INTERVAL_MS,
      minIntervalMs: config.SYNC_MIN_INTERVAL_MS,
      maxIntervalMs: config.SYNC_MAX_INTERVAL_MS,
    });
    erasureRoutes(app, { orm, log, verifier });
    // The data lifecycle: purges of companies past their disconnect's grace period or erased on request, and
    // rows past their retention.
    const purger = createPurger({
      orm,
      outbox,
      events,
      log,
      batchSize: config.SYNC_PURGE_BATCH_SIZE,
      leaseTtlMs: config.SYNC_LEASE_TTL_MS,
    });
    runPeriodically(deps, { name: 'data-purge', everyMs: config.SYNC_PURGE_POLL_MS, run: purger.runDue });
    runPeriodically(deps, {
      name: 'data-retention',
      everyMs: config.SYNC_RETENTION_INTERVAL_MS,
      run: createRetention({
        orm,
        log,
        batchSize: config.SYNC_PURGE_BATCH_SIZE,
        settings: {
          apiLogMs: config.SYNC_API_LOG_RETENTION_MS,
          runMs: config.SYNC_RUN_RETENTION_MS,
          errorMs: config.SYNC_ERROR_RETENTION_MS,
        },
      }),
    });
    worker.start();
    onShutdown({ name: 'sync-worker', phase: phase.consumers, run: () => worker.stop() });
  },
};
