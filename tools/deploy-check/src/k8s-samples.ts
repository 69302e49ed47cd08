/**
 * Stand-in values for the secret files, used only to run each service's config parse over a rendered
 * Deployment. They have the shape the real secrets must have (the parse checks formats and lengths), so a key
 * added to a Secret without a sample here fails the check until one is written.
 */
export const SAMPLE_SECRETS: Readonly<Record<string, string>> = {
  DATABASE_URL: 'postgres://svc:sample-password@postgres.example:5432/qbo',
  REDIS_URL: 'rediss://:sample-password@redis.example:6379',
  QBO_CLIENT_SECRET: 'sample-intuit-client-secret',
  TOKEN_SERVICE_CREDENTIAL: 'sample-service-credential-0123456789',
  TOKEN_API_CALLERS:
    'auth-service=sample-auth-credential-0123456789;sync-service=sample-sync-credential-0123456789',
  STATE_COOKIE_SECRET: 'sample-state-cookie-secret-0123456789abcdef',
  AUTH_JWT_SECRET: 'sample-org-jwt-secret-0123456789abcdef',
  TOKEN_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  TOKEN_ACTIVE_KEY_ID: 'k1',
  WEBHOOK_VERIFIER_TOKENS: 'sample-verifier-token-0123456789',
  KAFKA_SASL_PASSWORD: 'sample-scram-password',
  KAFKA_SSL_CA: '-----BEGIN CERTIFICATE-----\nMIIBsample\n-----END CERTIFICATE-----',
};
