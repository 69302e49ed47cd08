import { createHash, randomBytes } from 'node:crypto';
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
import { phase, type ServiceDefinition } from '@qbo/service-kit';
import { type Config, type CrashPoint, configSchema, keyRingOf, oauthEndpoints } from './config.js';
import { parseKeyRing } from './domain/key-ring.js';
import { tokenRoutes } from './http/routes.js';
import { createTokenEndpoint } from './intuit/token-endpoint.js';
import type { TokenMetrics } from './metrics.js';
import { createScheduler, type Scheduler } from './refresh/scheduler.js';
import { createTokenManager, type TokenManager } from './refresh/token-manager.js';
import { migrations } from './store/migrations.js';
import type { Em } from './store/sql.js';
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

const GROUP = 'token-service';

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
    async wire({ config, log, orm, kafka, admin, app, onShutdown }) {
      let ring = keyRingOf(config);
      if (!ring) {
        // Only with TOKEN_ALLOW_EPHEMERAL_KEY=true, never in production (config refuses both otherwise): tokens
        // stored now become unreadable at the next start, acceptable for a throwaway local run and nothing else.
        log.warn(
          'TOKEN_KEYS is not set: using an EPHEMERAL key; every credential stored by this process is lost when it stops',
        );
        ring = parseKeyRing(`ephemeral:${randomBytes(32).toString('base64')}`, 'ephemeral');
      }
      // Which key sealed how many data keys: an id missing from the ring makes those rows unreadable, and a
      // retired id with no rows left may be removed from the ring.
      const byKid = await orm.em
        .getConnection()
        .execute<{ kid: string; n: string }[]>(
          "select split_part(sealed_key, '.', 2) as kid, count(*) as n from data_key group by 1",
        );
      const missing = byKid.filter((r) => !ring?.get(r.kid)).map((r) => r.kid);
      if (missing.length > 0)
        log.error({ missing }, 'data keys sealed by key ids missing from TOKEN_KEYS cannot be opened');
      log.info({ dataKeysByKid: Object.fromEntries(byKid.map((r) => [r.kid, Number(r.n)])) }, 'vault keys');
      const names = await provisionFromConfig(admin, config);
      const serde = createSerde({ registryUrl: config.SCHEMA_REGISTRY_URL });

      const crashAt = config.TOKEN_TEST_CRASH_AT;
      const crash = (point: CrashPoint) => {
        if (crashAt !== point) return;
        log.warn({ point }, 'test crash point reached; exiting');
        process.exit(137);
      };
      const endpoints = oauthEndpoints(config);
      const clientSecret = config.QBO_CLIENT_SECRET;
      const tokens = createTokenManager({
        orm,
        vault: createVault(ring),
        intuit: createTokenEndpoint({
          tokenUrl: endpoints.token,
          revokeUrl: endpoints.revoke,
          clientId: config.QBO_CLIENT_ID,
          clientSecret: () => clientSecret.reveal(),
          timeoutMs: config.QBO_TOKEN_TIMEOUT_MS,
        }),
        outbox: createOutbox({ schema: 'token' }),
        events: createTracedEventFactory({ source: 'token-service' }),
        log,
        now,
        random,
        clientFingerprint: createHash('sha256')
          .update(`qbo-app:${config.QBO_CLIENT_ID}:${clientSecret.reveal()}`)
          .digest('hex')
          .slice(0, 24),
        marginMs: config.TOKEN_REFRESH_MARGIN_MS,
        activeWindowMs: config.TOKEN_ACTIVE_WINDOW_MS,
        keepAliveMs: config.TOKEN_KEEPALIVE_INTERVAL_MS,
        reconnectLeadMs: config.RECONNECT_SOON_LEAD_MS,
        backoff: {
          initialMs: config.REFRESH_BACKOFF_INITIAL_MS,
          maxMs: config.REFRESH_BACKOFF_MAX_MS,
          jitter: 0.5,
        },
        lockTimeoutMs: config.QBO_TOKEN_TIMEOUT_MS * 2 + 5_000,
        crash,
        ...(metrics ? { metrics } : {}),
      });

      const accepted = config.TOKEN_SERVICE_CREDENTIALS.map((s) => s.reveal());
      tokenRoutes(app, {
        tokens,
        credentials: () => accepted,
        defaultMinValidityMs: config.TOKEN_REFRESH_MARGIN_MS,
        log,
      });

      runOutboxRelay(
        { connectionString: config.DATABASE_URL, schema: 'token', kafka, serde, log, names },
        onShutdown,
      );

      const inbox = createInbox({ schema: 'token', group: GROUP });
      const consumer = createEventConsumer({
        kafka,
        groupId: `${config.KAFKA_TOPIC_PREFIX ?? ''}${GROUP}`,
        serde,
        log,
        names,
        handlers: {
          ConnectionDisconnected: exactlyOnce(orm, inbox, async (event, { em }) => {
            const shredded = await tokens.shred(
              em as unknown as Em,
              event.data.connectionId,
              event.orgId,
              event.data.revokedAtIntuit,
            );
            if (shredded) log.info({ connectionId: event.data.connectionId }, 'credentials shredded');
          }),
        },
      });
      runConsumer(consumer, 'disconnect-consumer', onShutdown);

      const scheduler = createScheduler({
        tokens,
        log,
        intervalMs: config.SCHEDULER_INTERVAL_MS,
        batchSize: config.SCHEDULER_BATCH_SIZE,
        concurrency: Math.min(config.SCHEDULER_CONCURRENCY, Math.max(1, config.DATABASE_POOL_MAX - 2)),
      });
      scheduler.start();
      onShutdown({ name: 'scheduler', phase: phase.consumers, run: () => scheduler.stop() });
      // Inbox rows only need to outlive any redelivery, i.e. the topic's retention.
      const prune = setInterval(() => {
        inbox
          .prune(orm.em.fork(), new Date(Date.now() - 2 * config.KAFKA_TOPIC_RETENTION_MS))
          .catch((err: unknown) => log.warn({ err }, 'inbox prune failed'));
      }, 3_600_000);
      prune.unref();
      onShutdown({ name: 'inbox-prune', phase: phase.consumers, run: () => clearInterval(prune) });
      onWired?.({ tokens, scheduler });
    },
  };
}

export const service = createTokenService();
