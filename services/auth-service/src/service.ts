import {
  createEventConsumer,
  createInbox,
  createOutbox,
  createSerde,
  createTracedEventFactory,
  provisionFromConfig,
  runConsumer,
  runOutboxRelay,
} from '@qbo/event-bus';
import { phase, type ServiceDefinition } from '@qbo/service-kit';
import { createTokenServiceClient } from '@qbo/token-api';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { Redis } from 'ioredis';
import { createAudit } from './audit.js';
import { createJwtOrgVerifier } from './auth/org-verifier.js';
import { type Config, configSchema } from './config.js';
import { deriveKeys } from './domain/state.js';
import { connectRoutes } from './http/connect.js';
import { connectionsRoutes } from './http/connections.js';
import { createRateLimits } from './http/rate-limit.js';
import { problem } from './http/respond.js';
import { tokenHandlers } from './kafka/on-tokens.js';
import { createIntuitOAuth } from './oauth/intuit.js';
import { createConnections } from './store/connections.js';
import { migrations } from './store/migrations.js';
import { createStates } from './store/states.js';

const SCHEMA = 'auth';
const BODY_LIMIT_BYTES = 4 * 1024;

export const service: ServiceDefinition<Config> = {
  name: 'auth-service',
  schema: SCHEMA,
  configSchema,
  migrations,
  // Shutdown order: HTTP drains first, then the projection consumer leaves its group, then the outbox relay
  // finishes its batch and releases leadership, then Redis closes.
  async wire({ config, log, orm, kafka, admin, app, onShutdown }) {
    const names = await provisionFromConfig(admin, config);
    const serde = createSerde({ registryUrl: config.SCHEMA_REGISTRY_URL });
    const outbox = createOutbox({ schema: SCHEMA });
    const events = createTracedEventFactory({ source: 'auth-service' });
    runOutboxRelay(
      { connectionString: config.DATABASE_URL, schema: SCHEMA, kafka, serde, log, names },
      onShutdown,
    );

    const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', (err: Error) =>
      log.warn({ errorCode: (err as { code?: string }).code }, 'redis error'),
    );
    onShutdown({ name: 'redis', phase: phase.connections, run: async () => void (await redis.quit()) });

    const fork = () => orm.em.fork();
    const states = createStates(fork);
    const connections = createConnections(fork);
    const keys = deriveKeys(config.STATE_COOKIE_SECRET.reveal());
    const verifier = await createJwtOrgVerifier({
      ...(config.AUTH_JWT_SECRET ? { secret: config.AUTH_JWT_SECRET.reveal() } : {}),
      ...(config.AUTH_JWT_PUBLIC_KEY ? { publicKeyPem: config.AUTH_JWT_PUBLIC_KEY } : {}),
      ...(config.AUTH_JWT_JWKS_URL ? { jwksUrl: config.AUTH_JWT_JWKS_URL } : {}),
      issuer: config.AUTH_JWT_ISSUER,
      audience: config.AUTH_JWT_AUDIENCE,
      orgClaim: config.AUTH_JWT_ORG_CLAIM,
      orgFromSub: config.AUTH_JWT_ORG_FROM_SUB,
    });
    const tokenCredential = config.TOKEN_SERVICE_CREDENTIAL;
    const tokens = createTokenServiceClient({
      baseUrl: config.TOKEN_SERVICE_URL,
      credential: () => tokenCredential.reveal(),
      timeoutMs: config.TOKEN_SERVICE_TIMEOUT_MS,
    });
    const intuit = createIntuitOAuth({
      clientId: config.QBO_CLIENT_ID,
      clientSecret: config.QBO_CLIENT_SECRET.reveal(),
      environment: config.QBO_ENVIRONMENT,
      redirectUri: config.QBO_REDIRECT_URI,
      scopes: config.QBO_SCOPES,
      ...(config.QBO_OAUTH_BASE_URL ? { baseUrl: config.QBO_OAUTH_BASE_URL } : {}),
    });
    const limits = createRateLimits({
      redis,
      prefix: config.RATE_LIMIT_KEY_PREFIX,
      windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
      initiatePerIp: config.RATE_LIMIT_INITIATE_PER_IP,
      initiatePerOrg: config.RATE_LIMIT_INITIATE_PER_ORG,
      callbackPerIp: config.RATE_LIMIT_CALLBACK_PER_IP,
    });
    const audit = createAudit({ orm, outbox, events, log });

    const allowedOrigins = new Set(config.CORS_ALLOWED_ORIGINS);
    const corsMiddleware = cors({
      origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
      credentials: true,
      allowMethods: ['GET', 'POST', 'DELETE'],
      allowHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
    const headers = secureHeaders({
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      referrerPolicy: 'no-referrer',
      xContentTypeOptions: 'nosniff',
      strictTransportSecurity: 'max-age=31536000; includeSubDomains',
      xFrameOptions: 'DENY',
    });
    // The initiate body is `{returnTo}`; no route here needs more, so nothing reads an unbounded body.
    const limitBody = bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: (c) =>
        problem(c, 413, 'payload_too_large', `The request body exceeds ${BODY_LIMIT_BYTES} bytes`),
    });
    for (const path of ['/connect/*', '/connections', '/connections/*', '/oauth/*']) {
      app.use(path, headers);
      app.use(path, limitBody);
    }
    for (const path of ['/connect/*', '/connections', '/connections/*']) app.use(path, corsMiddleware);

    connectRoutes(app, {
      orm,
      log,
      states,
      connections,
      limits,
      intuit,
      tokens,
      outbox,
      events,
      audit,
      verifier,
      keys,
      settings: {
        environment: config.QBO_ENVIRONMENT,
        scopes: config.QBO_SCOPES,
        pkce: config.QBO_PKCE,
        stateTtlSeconds: config.STATE_TTL_SECONDS,
        returnToOrigins: config.RETURN_TO_ALLOWED_ORIGINS,
        cookieSecure: config.STATE_COOKIE_SECURE,
        trustProxy: config.TRUST_PROXY,
      },
    });
    connectionsRoutes(app, {
      orm,
      log,
      connections,
      tokens,
      outbox,
      events,
      verifier,
      publicUrl: (config.PUBLIC_URL ?? '').replace(/\/+$/, ''),
    });

    const consumer = createEventConsumer({
      kafka,
      groupId: `${config.KAFKA_TOPIC_PREFIX ?? ''}auth-service.status-view`,
      serde,
      log,
      names,
      handlers: tokenHandlers({
        orm,
        inbox: createInbox({ schema: SCHEMA, group: 'status-view' }),
        connections,
        log,
      }),
    });
    runConsumer(consumer, 'tokens-consumer', onShutdown);

    const prune = setInterval(() => {
      states.prune().catch((err: unknown) => log.warn({ err }, 'state prune failed'));
    }, 3_600_000);
    prune.unref();
  },
};
