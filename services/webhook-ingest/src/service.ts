import { createServiceBus } from '@qbo/event-bus';
import type { ServiceDefinition } from '@qbo/service-kit';
import { type Config, configSchema } from './config.js';
import { postWebhook } from './http/post-webhook.js';
import { createHandleDelivery } from './ingest/handle-delivery.js';
import { createBatchedPublish } from './ingest/publish.js';
import { createReplayParked } from './ingest/replay-parked.js';
import { createIngestStores } from './ingest/stores.js';
import { connectionHandlers } from './kafka/on-connection.js';
import { createWebhookMetrics } from './metrics.js';
import { migrations } from './store/migrations.js';
import { projectionGroup } from './store/projection-group.js';

export const service: ServiceDefinition<Config> = {
  name: 'webhook-ingest',
  schema: 'webhook',
  configSchema,
  migrations,
  // Headers, then the body, each within its time: a slow sender is cut off before any signature work. The
  // request timeout is the backstop for both; the route's own body deadline answers 408 first.
  requestTimeouts: (config) => ({
    headersTimeoutMs: config.WEBHOOK_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.WEBHOOK_HEADERS_TIMEOUT_MS + config.WEBHOOK_BODY_TIMEOUT_MS + 1_000,
  }),
  // Shutdown order: the HTTP step drains in-flight deliveries (each awaits its Kafka ack), then the dedupe
  // records are flushed, the projection consumer leaves its group (so a replacement replica rejoins at once),
  // then the producer disconnects.
  async wire(deps) {
    const { config, log, orm, app } = deps;
    const bus = await createServiceBus(deps);
    const publish = createBatchedPublish(await bus.producer());
    const { realms, seen, parked, kept } = createIngestStores(deps);
    const replay = createReplayParked({ parked, publish, events: bus.events, log });
    const metrics = createWebhookMetrics();

    const tokens = (config.WEBHOOK_VERIFIER_TOKENS ?? []).map((t) => t.reveal());
    if (tokens.length === 0) log.warn('WEBHOOK_VERIFIER_TOKENS is not set; every webhook will be refused');
    const handle = createHandleDelivery({
      verifierTokens: () => tokens,
      realms,
      seen,
      parked,
      kept,
      replay,
      publish,
      events: bus.events,
      metrics,
      log,
      dedupeWindowMs: config.WEBHOOK_DEDUPE_WINDOW_MS,
      maxEventAgeMs: config.WEBHOOK_MAX_EVENT_AGE_MS,
      maxMessageBytes: config.KAFKA_MAX_MESSAGE_BYTES,
    });
    postWebhook(app, {
      handle,
      metrics,
      log,
      maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
      bodyTimeoutMs: config.WEBHOOK_BODY_TIMEOUT_MS,
      deadlineMs: config.WEBHOOK_DEADLINE_MS,
    });

    // Webhooks do not wait for the join: a realm not linked yet is parked and replayed.
    const groupId = await projectionGroup(orm.em, 'realm-orgs', (g) => bus.groupId('realm-orgs', g));
    bus.consume(
      'realm-orgs',
      connectionHandlers({ realms, replay, log, parkWindowMs: config.WEBHOOK_PARK_WINDOW_MS }),
      { groupId },
    );
  },
};
