import {
  budgetLimits,
  createApiLogWriter,
  createBudget,
  createQboClient,
  createRedisBudgetStore,
  mikroOrmApiLogStore,
  type QboClient,
} from '@qbo/qbo-client';
import { type Logger, type MikroORM, phase, query, type ServiceDeps } from '@qbo/service-kit';
import { createTokenServiceClient } from '@qbo/token-api';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { SyncMetrics } from '../metrics.js';
import { createTokenApiProvider } from '../tokens/token-api-provider.js';

/** How long a run waits for its API log rows to be written before it ends anyway. */
const API_LOG_FLUSH_WAIT_MS = 5_000;

/**
 * The one QuickBooks client of this replica: tokens from the token-service for the connection that holds the
 * realm, the fleet-wide per-realm budget in Redis, and every call in `qbo_api_log`, written in batches behind the
 * calls; `flushApiLog` writes what is still buffered.
 */
export function createIntuitClient(
  config: Config,
  { orm, log, onShutdown }: { orm: MikroORM; log: Logger; onShutdown: ServiceDeps<Config>['onShutdown'] },
  metrics: SyncMetrics,
): { qbo: QboClient; flushApiLog: () => Promise<void> } {
  const redis = new Redis(config.REDIS_URL.reveal(), { maxRetriesPerRequest: 1 });
  redis.on('error', (err: Error) => log.warn({ errorCode: (err as { code?: string }).code }, 'redis error'));
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
          orm.em.fork(),
          `select connection_id::text from sync_target where realm_id = $1 and status = 'active'`,
          [realmId],
        );
        return rows[0]?.connection_id;
      },
    }),
    budget: createBudget({
      store: createRedisBudgetStore({ redis, namespace: 'qbo-budget', limits: budgetLimits() }),
    }),
    // Each attempt's budget wait is measured by the client for its API log row; the metric reads it there.
    apiLog: {
      write(row) {
        metrics.budgetWait(row.operation, row.budgetWaitMs);
        apiLog.write(row);
      },
    },
    log,
  });
  // A database that will not take the rows holds no run: past the wait the run ends, and the rows follow.
  const flushApiLog = async () => {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), API_LOG_FLUSH_WAIT_MS);
    });
    const flushed = await Promise.race([apiLog.flush().then(() => true), gaveUp]);
    clearTimeout(timer);
    if (!flushed || apiLog.buffered > 0) log.warn({ buffered: apiLog.buffered }, 'api log not yet written');
  };
  return { qbo, flushApiLog };
}
