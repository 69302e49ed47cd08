import { createServer } from 'node:net';
import { join } from 'node:path';
import { signOrgToken } from '@qbo/service-kit/org-auth';
import type { StackSecrets } from './secrets.js';

export type Deployable = 'token-service' | 'auth-service' | 'sync-service' | 'webhook-ingest';

export interface ServiceSpec {
  name: Deployable;
  port: number;
}

/** The platform's deployables, in start order, on the ports their configs default to. */
export const SERVICES: readonly ServiceSpec[] = [
  { name: 'token-service', port: 8081 },
  { name: 'auth-service', port: 8080 },
  { name: 'sync-service', port: 8082 },
  { name: 'webhook-ingest', port: 8083 },
];

/** The QuickBooks simulator stands in for Intuit locally. */
export const SIMULATOR_PORT = 4010;
export const QBO_CLIENT_ID = 'local-stack-app';
/** The org tokens' issuer and audience: what a platform would put in the tokens it signs for auth-service. */
export const ORG_TOKEN_ISSUER = 'local-platform';
export const ORG_TOKEN_AUDIENCE = 'qbo-auth-service';
/** Where a connect flow returns to: the platform's own frontend (not part of this stack). */
export const PLATFORM_ORIGIN = 'http://localhost:3000';

export const entryOf = (root: string, name: string) => ({
  entry: join(root, 'services', name, 'dist', 'main.js'),
  preload: join(root, 'services', name, 'dist', 'telemetry.js'),
});

/** The operator console (tools/console): it forwards its API calls to sync-service and auth-service. */
export const CONSOLE_PORT = 8084;

export type StackPorts = Record<Deployable | 'simulator' | 'console', number>;

/** Every port decided before anything starts: services and the simulator name each other in their config. */
export async function choosePorts(offset: number, free: boolean): Promise<StackPorts> {
  const pick = (port: number) => (free ? freePort() : Promise.resolve(port + offset));
  const ports = {} as StackPorts;
  for (const spec of SERVICES) ports[spec.name] = await pick(spec.port);
  ports.simulator = await pick(SIMULATOR_PORT);
  ports.console = await pick(CONSOLE_PORT);
  return ports;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const local = (port: number) => `http://127.0.0.1:${port}`;

/** Each service's own variables in the local stack, on top of the common ones (database, Kafka, port). */
export function serviceEnv(
  name: Deployable,
  ports: StackPorts,
  secrets: StackSecrets,
  redisUrl: string,
): Record<string, string> {
  const intuit = {
    QBO_CLIENT_ID,
    QBO_CLIENT_SECRET: secrets.qboClientSecret,
    QBO_ENVIRONMENT: 'sandbox',
    QBO_OAUTH_BASE_URL: local(ports.simulator),
  };
  switch (name) {
    case 'token-service':
      return {
        ...intuit,
        // One credential per caller, each allowed only its own operations and rotated on its own.
        TOKEN_API_CALLERS: [
          `auth-service=${secrets.authServiceCredential}`,
          `sync-service=${secrets.syncServiceCredential}`,
          `operator=${secrets.operatorCredential}`,
        ].join(';'),
        TOKEN_KEYS: secrets.tokenKeys,
        TOKEN_ACTIVE_KEY_ID: secrets.tokenKeys.split(':')[0] ?? '',
        // A forced refresh per connection at most every 3 s here (30 s by default): the demo shows the
        // throttle without waiting half a minute for it.
        TOKEN_FORCED_REFRESH_INTERVAL_MS: '3000',
        // After a transient failure, the next attempt in 2.5–5 s (30 s by default) and the scheduler looking
        // every second: the demo's outage is recovered from within seconds of Intuit's return.
        REFRESH_BACKOFF_INITIAL_MS: '5000',
        REFRESH_BACKOFF_MAX_MS: '20000',
        SCHEDULER_INTERVAL_MS: '1000',
      };
    case 'auth-service':
      return {
        ...intuit,
        QBO_REDIRECT_URI: `${local(ports['auth-service'])}/oauth/callback`,
        PUBLIC_URL: local(ports['auth-service']),
        TOKEN_SERVICE_URL: local(ports['token-service']),
        TOKEN_SERVICE_CREDENTIAL: secrets.authServiceCredential,
        STATE_COOKIE_SECRET: secrets.stateCookieSecret,
        // Plain http on this machine only; the cookie is Secure everywhere else.
        STATE_COOKIE_SECURE: 'false',
        // The platform's frontend and the operator console may each start a connect flow and be returned to.
        RETURN_TO_ALLOWED_ORIGINS: `${PLATFORM_ORIGIN},${local(ports.console)}`,
        CORS_ALLOWED_ORIGINS: PLATFORM_ORIGIN,
        AUTH_JWT_SECRET: secrets.orgJwtSecret,
        AUTH_JWT_ISSUER: ORG_TOKEN_ISSUER,
        AUTH_JWT_AUDIENCE: ORG_TOKEN_AUDIENCE,
      };
    case 'webhook-ingest':
      return { WEBHOOK_VERIFIER_TOKENS: secrets.webhookVerifierToken };
    case 'sync-service':
      return {
        QBO_API_BASE_URL: local(ports.simulator),
        TOKEN_SERVICE_URL: local(ports['token-service']),
        TOKEN_SERVICE_CREDENTIAL: secrets.syncServiceCredential,
        REDIS_URL: redisUrl,
        // The same org credential as auth-service's: one platform token works at both APIs.
        AUTH_JWT_SECRET: secrets.orgJwtSecret,
        AUTH_JWT_ISSUER: ORG_TOKEN_ISSUER,
        AUTH_JWT_AUDIENCE: ORG_TOKEN_AUDIENCE,
      };
  }
}

/**
 * The simulator's command line and environment: the app, its redirect URI and its webhook target are the
 * stack's. Its secrets go through the environment, not the command line that `ps` shows.
 */
export function simulatorLaunch(ports: StackPorts, secrets: StackSecrets, consent: 'auto' | 'page') {
  return {
    args: [
      ...['--port', String(ports.simulator), '--control', '--consent', consent],
      ...['--seed', '42', '--companies', '2', '--records', '200'],
      ...['--client-id', QBO_CLIENT_ID],
      ...['--redirect-uri', `${local(ports['auth-service'])}/oauth/callback`],
      ...[
        '--webhook',
        `${local(ports['webhook-ingest'])}/webhooks/quickbooks`,
        '--webhook-format',
        'cloudevents',
      ],
    ],
    env: {
      QBO_SIM_CLIENT_SECRET: secrets.qboClientSecret,
      QBO_SIM_VERIFIER_TOKEN: secrets.webhookVerifierToken,
    },
  };
}

/** The console's environment: the two APIs it forwards to, and Jaeger's UI for the trace links. */
export function consoleEnv(ports: StackPorts): Record<string, string> {
  return {
    SYNC_SERVICE_URL: local(ports['sync-service']),
    AUTH_SERVICE_URL: local(ports['auth-service']),
    JAEGER_URL: process.env.JAEGER_URL ?? 'http://127.0.0.1:16686',
    PORT: String(ports.console),
  };
}

/**
 * An org user's token as the platform's identity provider would issue it, signed by the kit's `signOrgToken`
 * with the stack's org-token key. The local operator's (role operator) is what the console's sign-in link
 * carries in its fragment, which the browser never sends to a server.
 */
export function orgToken(
  secret: string,
  orgId: string,
  o: { operator?: boolean; hours?: number } = {},
): Promise<string> {
  return signOrgToken({ secret, issuer: ORG_TOKEN_ISSUER, audience: ORG_TOKEN_AUDIENCE }, orgId, {
    ...(o.operator ? { operator: true } : {}),
    expiresIn: `${o.hours ?? 1}h`,
  });
}
