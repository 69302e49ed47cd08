import { randomBytes } from 'node:crypto';
import { describeServiceLifecycle } from '@qbo/testkit';

describeServiceLifecycle({
  service: 'token-service',
  schema: 'token',
  root: new URL('..', import.meta.url),
  extraSteps: ['disconnect-consumer', 'inbox-prune', 'scheduler', 'outbox-relay'],
  env: {
    TOKEN_API_CALLERS: 'auth-service=lifecycle-auth-credential;sync-service=lifecycle-sync-credential',
    TOKEN_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    TOKEN_ACTIVE_KEY_ID: 'k1',
    QBO_CLIENT_ID: 'lifecycle-client',
    QBO_CLIENT_SECRET: 'lifecycle-client-secret',
    QBO_OAUTH_BASE_URL: 'http://127.0.0.1:9',
  },
});
