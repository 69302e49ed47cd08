import { type Connection, type Demo, expectStatus, getJson, post } from './demo-kit.js';
import { PLATFORM_ORIGIN } from './services.js';

/**
 * The org connects (or reconnects) a company through auth-service, the simulator playing Intuit and
 * consenting at once for `realmId`: initiate, consent, callback, then the connection as auth-service lists it
 * and the credential token-service holds for it.
 */
export async function connect(
  d: Demo,
  realmId: string,
): Promise<{ connectionId: string; credentialVersion: number }> {
  await post(`${d.sim}/_sim/consent`, { decision: 'approve', realmId });
  const initiated = await fetch(`${d.auth}/connect/quickbooks`, {
    method: 'POST',
    headers: { authorization: d.orgBearer, 'content-type': 'application/json', origin: PLATFORM_ORIGIN },
    body: JSON.stringify({ returnTo: `${PLATFORM_ORIGIN}/settings/integrations` }),
  });
  await expectStatus(initiated, 200, 'initiate the connect flow');
  const { authorizeUrl } = (await initiated.json()) as { authorizeUrl: string };
  const cookie = initiated.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  d.step(`${d.orgId} started a connect flow; the browser goes to Intuit (${new URL(authorizeUrl).origin})`);

  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (!callback) throw new Error(`the simulator did not redirect after consent (${consent.status})`);
  const done = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  const landing = new URL(done.headers.get('location') ?? 'about:blank');
  if (done.status !== 303 || landing.origin !== PLATFORM_ORIGIN) {
    throw new Error(`the callback did not return to the platform (${done.status} ${landing.origin})`);
  }
  const granted = new URL(callback).searchParams.get('realmId') ?? '';
  if (granted !== realmId) throw new Error(`consent granted realm ${granted}, not ${realmId}`);
  d.step(`callback accepted; the browser lands on ${landing.origin}${landing.pathname} (realm ${realmId})`);

  const list = await getJson<{ connections?: Connection[] } | Connection[]>(
    `${d.auth}/connections`,
    d.orgBearer,
    'list connections',
  );
  const connection = (Array.isArray(list) ? list : (list.connections ?? [])).find(
    (c) => c.realmId === realmId && c.status === 'active',
  );
  if (!connection) throw new Error('the new connection is not in the org’s list');
  const connectionId = String(connection.id ?? connection.connectionId);
  d.step(`connection ${connectionId} is ${connection.status}`);
  const vault = await getJson<{ status: string; credentialVersion: number }>(
    `${d.tokens}/internal/connections/${connectionId}/status`,
    d.operatorBearer,
    'read the credential status',
  );
  d.step(`token-service holds credential version ${vault.credentialVersion} (${vault.status})`);
  return { connectionId, credentialVersion: vault.credentialVersion };
}
