import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({
  service: 'auth-service',
  schema: 'auth',
  root: new URL('..', import.meta.url),
  extraSteps: ['status-view-consumer', 'inbox-prune', 'outbox-relay', 'redis'],
  env: {
    KAFKA_TOPIC_PREFIX: `lifecycle-${process.pid}.`,
    QBO_CLIENT_ID: 'lifecycle-client',
    QBO_CLIENT_SECRET: 'lifecycle-client-secret',
    QBO_REDIRECT_URI: 'http://127.0.0.1:9/oauth/callback',
    TOKEN_SERVICE_URL: 'http://127.0.0.1:9',
    TOKEN_SERVICE_CREDENTIAL: 'lifecycle-service-credential',
    STATE_COOKIE_SECRET: 'lifecycle-cookie-secret-0123456789abcdef',
    RETURN_TO_ALLOWED_ORIGINS: 'https://app.example.com',
    AUTH_JWT_SECRET: 'lifecycle-jwt-secret-0123456789abcdefgh',
    AUTH_JWT_ISSUER: 'https://platform.test',
    AUTH_JWT_AUDIENCE: 'qbo-auth',
  },
});
