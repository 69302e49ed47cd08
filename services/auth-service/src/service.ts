import { randomUUID } from 'node:crypto';
import { createServiceBus } from '@qbo/event-bus';
import { phase, runPeriodically, type ServiceDefinition } from '@qbo/service-kit';
import { createAudit } from './audit.js';
import { createClients } from './clients.js';
import { type Config, configSchema } from './config.js';
import { createCompleteConnection } from './connect/complete-connection.js';
import { createRecordConnection } from './connect/record-connection.js';
import { deriveKeys } from './domain/state.js';
import { trustedProxies } from './http/client-address.js';
import { createConnectGuards } from './http/connect-guards.js';
import { connectionsRoutes } from './http/connections.js';
import { initiateRoutes } from './http/initiate-connect.js';
import { callbackRoute } from './http/oauth-callback.js';
import { applyHttpPolicy } from './http/policy.js';
import { createRateLimits } from './http/rate-limit.js';
import { statusViewHandlers } from './kafka/status-view.js';
import { createConnections } from './store/connections.js';
import { migrations } from './store/migrations.js';
import { createStates } from './store/states.js';

const HOUR_MS = 3_600_000;

export const service: ServiceDefinition<Config> = {
  name: 'auth-service',
  schema: 'auth',
  configSchema,
  migrations,
  // Shutdown order: HTTP drains first, then the status view's consumer leaves its group, then the outbox relay
  // finishes its batch and releases leadership, then Redis closes.
  async wire(deps) {
    const { config, log, orm, app, onShutdown } = deps;
    const bus = await createServiceBus(deps);
    const outbox = bus.outbox();
    const { redis, verifier, tokens, intuit } = await createClients(config, log, onShutdown);
    const fork = () => orm.em.fork();
    const states = createStates(fork);
    const connections = createConnections(fork);
    const keys = deriveKeys(config.STATE_COOKIE_SECRET.reveal());
    const audit = createAudit({
      orm,
      outbox,
      events: bus.events,
      log,
      perWindow: config.AUDIT_SAMPLE_PER_WINDOW,
    });
    const guards = createConnectGuards({
      limits: createRateLimits({
        redis,
        prefix: config.RATE_LIMIT_KEY_PREFIX,
        windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
        initiatePerIp: config.RATE_LIMIT_INITIATE_PER_IP,
        initiatePerOrg: config.RATE_LIMIT_INITIATE_PER_ORG,
        callbackPerIp: config.RATE_LIMIT_CALLBACK_PER_IP,
      }),
      audit,
      log,
      fingerprintKey: keys.fingerprint,
      trustProxy: trustedProxies(config.TRUSTED_PROXY_CIDRS),
    });

    applyHttpPolicy(app, { corsOrigins: config.CORS_ALLOWED_ORIGINS });
    initiateRoutes(app, {
      log,
      states,
      intuit,
      audit,
      verifier,
      guards,
      keys,
      settings: {
        pkce: config.QBO_PKCE,
        stateTtlSeconds: config.STATE_TTL_SECONDS,
        returnToOrigins: config.RETURN_TO_ALLOWED_ORIGINS,
        cookieSecure: config.STATE_COOKIE_SECURE,
      },
    });
    callbackRoute(app, {
      states,
      complete: createCompleteConnection({
        intuit,
        tokens,
        ownerOfRealm: (realmId) => connections.ownerOfRealm(realmId),
        liveConnection: (orgId, realmId) => connections.byOrgAndRealm(orgId, realmId),
        record: createRecordConnection({ orm, connections, outbox, events: bus.events }),
        log,
        settings: { environment: config.QBO_ENVIRONMENT, scopes: config.QBO_SCOPES },
        newId: randomUUID,
      }),
      audit,
      guards,
      keys,
      cookieSecure: config.STATE_COOKIE_SECURE,
    });
    connectionsRoutes(app, {
      orm,
      log,
      connections,
      tokens,
      outbox,
      events: bus.events,
      verifier,
      publicUrl: (config.PUBLIC_URL ?? '').replace(/\/+$/, ''),
    });

    bus.consume('status-view', (inbox) => statusViewHandlers({ orm, inbox, connections, log }));
    runPeriodically(deps, { name: 'state-prune', everyMs: HOUR_MS, run: () => states.prune() });
    // Each window's audit summaries, and the last one's after HTTP stopped and before the outbox relay drains.
    runPeriodically(deps, {
      name: 'audit-summaries',
      everyMs: config.AUDIT_WINDOW_SECONDS * 1000,
      run: () => audit.flush(),
    });
    onShutdown({ name: 'audit-summaries-final', phase: phase.consumers, run: () => audit.flush() });
  },
};
