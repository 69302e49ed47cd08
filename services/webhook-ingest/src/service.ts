import {
  createEventConsumer,
  createEventProducer,
  createSerde,
  createTracedEventFactory,
  provisionFromConfig,
  runConsumer,
} from '@qbo/event-bus';
import type { CatalogEvent } from '@qbo/events';
import { phase, type ServiceDefinition } from '@qbo/service-kit';
import { type Config, configSchema } from './config.js';
import { postWebhook } from './http/post-webhook.js';
import { batchRealmOrgs, batchSeenEvents, cacheRealmOrgs } from './ingest/batched-store.js';
import { createBatcher } from './ingest/batcher.js';
import { createHandleDelivery, type Publish } from './ingest/handle-delivery.js';
import { createReplayParked } from './ingest/replay-parked.js';
import { connectionHandlers } from './kafka/on-connection.js';
import { createWebhookMetrics } from './metrics.js';
import { migrations } from './store/migrations.js';
import { createParkedChanges } from './store/parked-changes.js';
import { projectionGroup } from './store/projection-group.js';
import { createRealmOrgs } from './store/realm-orgs.js';
import { createSeenEvents } from './store/seen-events.js';
import { createSql } from './store/sql.js';

export const service: ServiceDefinition<Config> = {
  name: 'webhook-ingest',
  schema: 'webhook',
  configSchema,
  migrations,
  // Shutdown order: the HTTP step drains in-flight deliveries (each awaits its Kafka ack), then the projection
  // consumer leaves its group (so a replacement replica rejoins at once), then the producer disconnects.
  async wire({ config, log, orm, kafka, admin, app, onShutdown }) {
    const names = await provisionFromConfig(admin, config);
    const serde = createSerde({ registryUrl: config.SCHEMA_REGISTRY_URL });
    const producer = createEventProducer({ kafka, serde, log, names });
    await producer.connect();
    onShutdown({ name: 'producer', phase: phase.producers, run: () => producer.disconnect() });

    const sql = createSql(orm);
    const realms = cacheRealmOrgs(batchRealmOrgs(createRealmOrgs(sql)), config.WEBHOOK_REALM_CACHE_MS);
    const seen = batchSeenEvents(createSeenEvents(sql), config.WEBHOOK_DEDUPE_WINDOW_MS, (err) =>
      log.warn({ err }, 'dedupe record not written; a redelivery of those changes may publish again'),
    );
    // After the HTTP drain (ingress) and before the database closes (connections).
    onShutdown({ name: 'dedupe-records', phase: phase.consumers, run: () => seen.flush() });
    const parked = createParkedChanges(sql);
    const events = createTracedEventFactory({ source: 'webhook-ingest' });
    const metrics = createWebhookMetrics();
    // Concurrent deliveries share one Kafka request (the producer keeps one in flight, for ordering).
    const publishBatch = createBatcher<readonly CatalogEvent[], void>({
      maxItems: 500,
      run: async (batches) => {
        await producer.publish(batches.flat());
        return batches.map(() => undefined);
      },
    });
    const publish: Publish = (batch, expiresAt) => publishBatch(batch, expiresAt);
    const replay = createReplayParked({ parked, publish, events, log });

    const tokens = (config.WEBHOOK_VERIFIER_TOKENS ?? []).map((t) => t.reveal());
    if (tokens.length === 0) log.warn('WEBHOOK_VERIFIER_TOKENS is not set; every webhook will be refused');
    const handle = createHandleDelivery({
      verifierTokens: () => tokens,
      realms,
      seen,
      parked,
      replay,
      publish,
      events,
      metrics,
      log,
      dedupeWindowMs: config.WEBHOOK_DEDUPE_WINDOW_MS,
    });
    postWebhook(app, {
      handle,
      metrics,
      log,
      maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
      deadlineMs: config.WEBHOOK_DEADLINE_MS,
    });

    const consumer = createEventConsumer({
      kafka,
      groupId: await projectionGroup(sql, 'realm-orgs', 'webhook-ingest'),
      serde,
      log,
      names,
      handlers: connectionHandlers({ realms, replay }),
    });
    // Webhooks do not wait for the join: a realm not linked yet is parked and replayed.
    runConsumer(consumer, 'connections-consumer', onShutdown);

    const prune = setInterval(() => {
      seen
        .prune(config.WEBHOOK_DEDUPE_WINDOW_MS)
        .catch((err: unknown) => log.warn({ err }, 'dedupe prune failed'));
    }, 3_600_000);
    prune.unref();
  },
};
