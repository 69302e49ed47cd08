import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { signOrgToken } from '@qbo/service-kit/org-auth';
import { type ServiceProcess, startProcess } from '@qbo/testkit';

export const JWT_SECRET = 'platform-signing-secret-for-tests-0123456789';
export const JWT_ISSUER = 'https://platform.test';
export const JWT_AUDIENCE = 'qbo-auth';
export const SERVICE_CREDENTIAL = 'service-credential-for-tests-0001';
export const COOKIE_SECRET = 'cookie-secret-for-tests-0123456789abcdef';
export const CLIENT_SECRET = 'sim-client-secret';
export const APP_ORIGIN = 'https://app.example.com';

const root = new URL('../../', import.meta.url);

/** A port that was free a moment ago: the redirect URI registered at Intuit must name the service's port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The environment every test instance shares; the variables a test varies come last. */
export function authEnv(o: {
  databaseUrl: string;
  brokers: readonly string[];
  topicPrefix: string;
  simUrl: string;
  tokenServiceUrl: string;
  redirectUri: string;
  rateLimitPrefix: string;
}): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    KAFKA_BROKERS: o.brokers.join(','),
    KAFKA_TOPIC_PREFIX: o.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    PORT: '0',
    LOG_LEVEL: 'debug',
    QBO_CLIENT_ID: 'sim-client-id',
    QBO_CLIENT_SECRET: CLIENT_SECRET,
    QBO_ENVIRONMENT: 'sandbox',
    QBO_REDIRECT_URI: o.redirectUri,
    QBO_OAUTH_BASE_URL: o.simUrl,
    QBO_PKCE: 'true',
    TOKEN_SERVICE_URL: o.tokenServiceUrl,
    TOKEN_SERVICE_CREDENTIAL: SERVICE_CREDENTIAL,
    STATE_COOKIE_SECRET: COOKIE_SECRET,
    STATE_COOKIE_SECURE: 'false',
    RETURN_TO_ALLOWED_ORIGINS: `${APP_ORIGIN},http://localhost:5173`,
    CORS_ALLOWED_ORIGINS: APP_ORIGIN,
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_JWT_ISSUER: JWT_ISSUER,
    AUTH_JWT_AUDIENCE: JWT_AUDIENCE,
    RATE_LIMIT_KEY_PREFIX: o.rateLimitPrefix,
    RATE_LIMIT_INITIATE_PER_IP: '6',
    RATE_LIMIT_INITIATE_PER_ORG: '3',
    RATE_LIMIT_CALLBACK_PER_IP: '8',
    // The tests' requests come through 127.0.0.1, the proxy in front; another loopback address is a stranger.
    TRUSTED_PROXY_CIDRS: '127.0.0.1',
    // Short audit windows, so a test sees a window's summary without waiting a minute.
    AUDIT_WINDOW_SECONDS: '2',
  };
}

export function startAuth(env: Record<string, string>): Promise<ServiceProcess> {
  return startProcess({
    entry: fileURLToPath(new URL('dist/main.js', root)),
    preload: fileURLToPath(new URL('dist/telemetry.js', root)),
    env,
  });
}

/** A platform credential for an org, as the platform's frontend would present it. */
export function orgToken(
  orgId: string,
  o: { secret?: string; expiresIn?: string; audience?: string; claims?: Record<string, unknown> } = {},
): Promise<string> {
  const { secret, audience, ...rest } = o;
  return signOrgToken(
    { secret: secret ?? JWT_SECRET, issuer: JWT_ISSUER, audience: audience ?? JWT_AUDIENCE },
    orgId,
    rest,
  );
}

export interface Recorded {
  url: string;
  status: number;
  headers: string;
  body: string;
}

/**
 * A browser as far as the connect flow needs one: its own cookie jar for the service, redirects followed by
 * hand, and a fixed client address (sent as X-Forwarded-For from 127.0.0.1, the proxy the service trusts in
 * the tests).
 * Every response it sees is recorded for the secret scan.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  static readonly seen: Recorded[] = [];

  constructor(readonly ip: string) {}

  async fetch(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      redirect: 'manual',
      ...init,
      headers: { 'x-forwarded-for': this.ip, ...(cookie ? { cookie } : {}), ...init.headers },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (!name) continue;
      if (/max-age=0/i.test(set) || value.join('=') === '') this.cookies.delete(name);
      else this.cookies.set(name, value.join('='));
    }
    const body = await res.clone().text();
    Browser.seen.push({
      url,
      status: res.status,
      headers: JSON.stringify([...res.headers]),
      body,
    });
    return res;
  }

  /** POST /connect/quickbooks; the authorize URL on success. */
  async initiate(
    serviceUrl: string,
    bearer: string,
    returnTo?: string,
  ): Promise<{ res: Response; authorizeUrl?: string }> {
    const res = await this.fetch(`${serviceUrl}/connect/quickbooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', origin: APP_ORIGIN },
      body: JSON.stringify(returnTo === undefined ? {} : { returnTo }),
    });
    if (res.status !== 200) return { res };
    const { authorizeUrl } = (await res.json()) as { authorizeUrl: string };
    return { res, authorizeUrl };
  }

  /** Intuit's consent (the simulator, auto mode): the URL it sends the browser back to. */
  async consent(authorizeUrl: string): Promise<URL> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) throw new Error(`the simulator answered ${res.status} without a redirect`);
    return new URL(location);
  }

  callback(url: URL | string, accept = 'text/html'): Promise<Response> {
    return this.fetch(String(url), { headers: { accept } });
  }
}

/** The token endpoint's calls, over every realm: attacks must leave it untouched. */
export function tokenCalls(counters: Record<string, Record<string, { calls: number }>>): number {
  return Object.values(counters).reduce((n, endpoints) => n + (endpoints.token?.calls ?? 0), 0);
}
