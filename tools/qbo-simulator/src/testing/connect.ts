import type { SimulatorControl } from '../control.js';

/** Where a simulator answers, in this process (with its control object) or in another. */
export interface Target {
  url: string;
  control?: Pick<SimulatorControl, 'nextConsent'>;
}

export const REDIRECT_URI = 'http://localhost:3000/callback';
export const BASIC = `Basic ${Buffer.from('sim-client-id:sim-client-secret').toString('base64')}`;

export interface Connection {
  realmId: string;
  accessToken: string;
  refreshToken: string;
}

/** Runs the OAuth dance over HTTP, as a browser and a server would, and returns the tokens. */
export async function connect(sim: Target, realmId?: string): Promise<Connection> {
  if (realmId) sim.control?.nextConsent({ decision: 'approve', realmId });
  const authorize = new URL(`${sim.url}/connect/oauth2`);
  authorize.search = new URLSearchParams({
    client_id: 'sim-client-id',
    response_type: 'code',
    scope: 'com.intuit.quickbooks.accounting openid',
    redirect_uri: REDIRECT_URI,
    state: 'test-state',
  }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location') ?? '');
  const response = await fetch(`${sim.url}/oauth2/v1/tokens/bearer`, {
    method: 'POST',
    headers: {
      authorization: BASIC,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    }),
  });
  const tokens = (await response.json()) as { access_token: string; refresh_token: string };
  return {
    realmId: callback.searchParams.get('realmId') ?? '',
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
  };
}

/** A fetch of the Accounting API with the connection's bearer token. */
export const api = (sim: Target, connection: Connection, path: string, init: RequestInit = {}) =>
  fetch(`${sim.url}/v3/company/${connection.realmId}/${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${connection.accessToken}`,
      accept: 'application/json',
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

export const query = (sim: Target, connection: Connection, select: string) =>
  api(sim, connection, `query?query=${encodeURIComponent(select)}&minorversion=75`);
