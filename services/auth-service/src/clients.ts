import { type Logger, phase, type ShutdownStep } from '@qbo/service-kit';
import { createOrgVerifierFromConfig } from '@qbo/service-kit/org-auth';
import { createTokenServiceClient } from '@qbo/token-api';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createIntuitOAuth } from './intuit/oauth.js';

/** The outside parties auth-service talks to, from its configuration: Redis, the token-service, Intuit, the org verifier. */
export async function createClients(config: Config, log: Logger, onShutdown: (step: ShutdownStep) => void) {
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on('error', (err: Error) => log.warn({ errorCode: (err as { code?: string }).code }, 'redis error'));
  onShutdown({ name: 'redis', phase: phase.connections, run: async () => void (await redis.quit()) });

  const verifier = await createOrgVerifierFromConfig(config);
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
  return { redis, verifier, tokens, intuit };
}
