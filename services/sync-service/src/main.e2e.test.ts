import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({
  service: 'sync-service',
  schema: 'sync',
  root: new URL('..', import.meta.url),
  extraSteps: ['sync-consumer', 'sync-worker', 'api-log', 'outbox-relay', 'redis'],
  env: {
    // Nothing is synced in this suite, so token-service is never asked; start-up must not need it.
    TOKEN_SERVICE_URL: 'http://127.0.0.1:9',
    TOKEN_SERVICE_CREDENTIAL: 'lifecycle-service-credential',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
});
