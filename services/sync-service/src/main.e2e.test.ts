import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({
  service: 'sync-service',
  schema: 'sync',
  root: new URL('..', import.meta.url),
  extraSteps: ['sync-consumer', 'inbox-prune', 'sync-worker', 'outbox-relay', 'api-log', 'redis'],
  env: {
    // Nothing is synced in this suite, so the token-service is never asked; start-up must not need it.
    TOKEN_SERVICE_URL: 'http://127.0.0.1:9',
    TOKEN_SERVICE_CREDENTIAL: 'lifecycle-service-credential',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    AUTH_JWT_SECRET: 'lifecycle-jwt-secret-0123456789abcdefgh',
    AUTH_JWT_ISSUER: 'https://platform.test',
    AUTH_JWT_AUDIENCE: 'qbo-platform',
  },
});
