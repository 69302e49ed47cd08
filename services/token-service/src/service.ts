import { createServiceBus } from '@qbo/event-bus';
import { phase, type ServiceDefinition } from '@qbo/service-kit';
import { type Config, callersOf, configSchema } from './config.js';
import { crashHook } from './crash.js';
import { tokenRoutes } from './http/routes.js';
import { disconnectHandlers } from './kafka/on-connection-disconnected.js';
import type { TokenMetrics } from './metrics.js';
import { createScheduler, type Scheduler } from './refresh/scheduler.js';
import { tokenManagerSettings } from './refresh/settings.js';
import { createTokenManager, type TokenManager } from './refresh/token-manager.js';
import { migrations } from './store/migrations.js';
import { keyRingInUse } from './vault/key-ring-in-use.js';
import { createVault } from './vault/vault.js';

export interface TokenServiceOptions {
  /** The service's clock (epoch ms); tests run it on the simulator's virtual clock. */
  now?: () => number;
  random?: () => number;
  /** Where the token metrics go (tests record them); OpenTelemetry's global meter by default. */
  metrics?: TokenMetrics;
  /** Handed the service's internals once wired (in-process tests and the benchmark). */
  onWired?: (internals: { tokens: TokenManager; scheduler: Scheduler }) => void;
}

export function createTokenService({
  now = Date.now,
  random = Math.random,
  metrics,
  onWired,
}: TokenServiceOptions = {}): ServiceDefinition<Config> {
  return {
    name: 'token-service',
    schema: 'token',
    configSchema,
    migrations,
    // Shutdown order: HTTP drains, the disconnect consumer leaves its group, the scheduler finishes its batch,
    // then the outbox relay sends what they wrote.
    async wire(deps) {
      const { config, log, orm, app, onShutdown } = deps;
      const ring = await keyRingInUse(config, orm, log);
      const bus = await createServiceBus(deps);
      const tokens = createTokenManager({
        orm,
        vault: createVault(ring),
        outbox: bus.outbox(),
        events: bus.events,
        log,
        now,
        random,
        crash: crashHook(config, log),
        ...tokenManagerSettings(config),
        ...(metrics ? { metrics } : {}),
      });

      const callers = callersOf(config);
      log.info(
        { callers: Object.fromEntries([...callers].map(([caller, s]) => [caller, s.length])) },
        'token API callers (credentials each)',
      );
      tokenRoutes(app, {
        tokens,
        callers: () => callers,
        defaultMinValidityMs: config.TOKEN_REFRESH_MARGIN_MS,
        log,
      });

      bus.consume('disconnect', disconnectHandlers({ orm, tokens, log }));

      const scheduler = createScheduler({
        tokens,
        log,
        intervalMs: config.SCHEDULER_INTERVAL_MS,
        batchSize: config.SCHEDULER_BATCH_SIZE,
        concurrency: Math.min(config.SCHEDULER_CONCURRENCY, Math.max(1, config.DATABASE_POOL_MAX - 2)),
      });
      scheduler.start();
      onShutdown({ name: 'scheduler', phase: phase.consumers, run: () => scheduler.stop() });
      onWired?.({ tokens, scheduler });
    },
  };
}

export const service = createTokenService();
