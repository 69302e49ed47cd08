import { orgToken, PLATFORM_ORIGIN } from '@qbo/stack/services';
import type { ChaosStack } from './stack.js';

/** An org user's token for the chaos run's requests, valid for its longest run. */
export const chaosToken = (stack: ChaosStack, orgId: string) =>
  orgToken(stack.secrets.orgJwtSecret, orgId, { hours: 6 });

const TIMEOUT_MS = 15_000;

export async function post<T = unknown>(url: string, body: unknown, authorization?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`POST ${new URL(url).pathname}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function get<T = unknown>(url: string, authorization?: string): Promise<T> {
  const res = await fetch(url, {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export const at = (port: number) => `http://127.0.0.1:${port}`;

/**
 * An org connects a QuickBooks company through auth-service, exactly as a browser would: the connect flow, the
 * simulator's consent (approved for `realmId`), the callback. Resolves with the connection's id once the
 * callback has returned the browser to the platform; throws on any other outcome (the caller tries again).
 */
export async function connect(stack: ChaosStack, orgId: string, realmId: string): Promise<string> {
  const auth = at(stack.ports['auth-service']);
  const bearer = `Bearer ${await chaosToken(stack, orgId)}`;
  await post(`${stack.simulator}/_sim/consent`, { decision: 'approve', realmId });
  const initiated = await fetch(`${auth}/connect/quickbooks`, {
    method: 'POST',
    headers: { authorization: bearer, 'content-type': 'application/json', origin: PLATFORM_ORIGIN },
    body: JSON.stringify({ returnTo: `${PLATFORM_ORIGIN}/settings/integrations` }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (initiated.status !== 200) throw new Error(`connect: ${initiated.status} ${await initiated.text()}`);
  const { authorizeUrl } = (await initiated.json()) as { authorizeUrl: string };
  const cookie = initiated.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const consent = await fetch(authorizeUrl, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  const callback = consent.headers.get('location');
  if (!callback) throw new Error(`consent: ${consent.status}`);
  const done = await fetch(callback, {
    redirect: 'manual',
    headers: { cookie },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const landing = new URL(done.headers.get('location') ?? 'about:blank');
  const connectionId = landing.searchParams.get('connection');
  if (done.status !== 303 || landing.searchParams.get('status') !== 'connected' || !connectionId) {
    throw new Error(`callback: ${done.status} ${landing.search}`);
  }
  return connectionId;
}

export interface Connection {
  id?: string;
  connectionId?: string;
  realmId: string;
  status: string;
  deactivationReason?: string | null;
}
