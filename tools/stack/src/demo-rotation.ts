import { type Demo, expectStatus, getJson, sleep } from './demo-kit.js';

export interface AccessToken {
  accessToken: string;
  credentialVersion: number;
}

export const accessToken = (d: Demo, connectionId: string) =>
  getJson<AccessToken>(
    `${d.tokens}/internal/connections/${connectionId}/access-token`,
    d.syncBearer,
    'get an access token',
  );

/**
 * Asks token-service to refresh the token the caller saw refused (compare-and-refresh). token-service
 * throttles forced refreshes of one connection (429 + Retry-After); the demo waits, as sync-service would.
 */
export async function forceRefresh(d: Demo, connectionId: string, rejected: string): Promise<Response> {
  for (;;) {
    const res = await fetch(`${d.tokens}/internal/connections/${connectionId}/access-token/refresh`, {
      method: 'POST',
      headers: { authorization: d.syncBearer, 'content-type': 'application/json' },
      body: JSON.stringify({ rejectedAccessToken: rejected }),
    });
    if (res.status !== 429) return res;
    const wait = Number(res.headers.get('retry-after') ?? '1');
    d.step(`token-service throttles a forced refresh this soon (429); retrying in ${wait} s`);
    await res.body?.cancel();
    await sleep(wait * 1000);
  }
}

export const companyInfo = (d: Demo, realmId: string, token: string) =>
  fetch(`${d.sim}/v3/company/${realmId}/companyinfo/${realmId}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });

/**
 * Intuit ends the access token early. The Accounting API refuses it; the caller asks token-service to refresh
 * exactly that token, and the new one works. No token is printed.
 */
export async function forcedRotation(d: Demo, connectionId: string, realmId: string): Promise<void> {
  await fetch(`${d.sim}/_sim/tokens/expire`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ realmId }),
  }).then((r) => expectStatus(r, 200, 'expire the access tokens'));
  const stale = await accessToken(d, connectionId);
  const refused = await companyInfo(d, realmId, stale.accessToken);
  await refused.body?.cancel();
  if (refused.status !== 401) throw new Error(`an expired token was answered ${refused.status}, not 401`);
  const res = await forceRefresh(d, connectionId, stale.accessToken);
  await expectStatus(res, 200, 'refresh the rejected access token');
  const fresh = (await res.json()) as AccessToken;
  const works = await companyInfo(d, realmId, fresh.accessToken);
  await expectStatus(works, 200, 'call the Accounting API with the refreshed token');
  d.step(
    `Intuit refused the expired token (401); token-service refreshed it once (credential version ` +
      `${stale.credentialVersion} → ${fresh.credentialVersion}) and the Accounting API accepts the new one`,
  );
}
