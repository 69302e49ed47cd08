import { createHmac } from 'node:crypto';
import { followInitialSync, type RecordEvent, type RecordWatch, watchRecords } from './demo-sync.js';
import type { StackSecrets } from './secrets.js';
import { ORG_TOKEN_AUDIENCE, ORG_TOKEN_ISSUER, PLATFORM_ORIGIN, type StackPorts } from './services.js';

export interface DemoStack {
  ports: StackPorts;
  secrets: StackSecrets;
  /** The platform database, where the demo follows sync-service's run rows. */
  databaseUrl: string;
  brokers: string;
}

/**
 * The story the local stack tells end to end, over real HTTP and Kafka: an org connects a QuickBooks company
 * through auth-service (the simulator as Intuit), token-service holds and refreshes its credentials,
 * sync-service loads the company, a change in QuickBooks arrives as a verified webhook and then as a record
 * event, and a grant revoked at Intuit deactivates the connection once, which auth-service's status view
 * shows. No token is printed.
 */
export async function runDemo(stack: DemoStack, print: (line: string) => void): Promise<void> {
  const orgId = `demo-org-${Date.now().toString(36)}`;
  // Watching from before the connect, as a downstream consumer would, so no record event is missed.
  const records = await watchRecords(stack.brokers, orgId);
  try {
    await tellStory(stack, orgId, records, print);
  } finally {
    await records.stop();
  }
}

async function tellStory(
  { ports, secrets, databaseUrl }: DemoStack,
  orgId: string,
  records: RecordWatch,
  print: (line: string) => void,
): Promise<void> {
  const at = (port: number) => `http://127.0.0.1:${port}`;
  const auth = at(ports['auth-service']);
  const tokens = at(ports['token-service']);
  const sim = at(ports.simulator);
  const orgBearer = `Bearer ${orgToken(orgId, secrets.orgJwtSecret)}`;
  // The token-service answers each caller only its own operations: status is the operator's, tokens sync's.
  const operatorBearer = `Bearer ${secrets.operatorCredential}`;
  const syncBearer = `Bearer ${secrets.syncServiceCredential}`;
  const step = (line: string) => print(`[demo] ${line}`);

  // 0. A company of its own in QuickBooks, with a few hundred records, which the consent will pick: each run
  //    tells the whole story afresh, on the same data (a fixed seed; the simulator avoids realm ids in use).
  const seeded = await post<{ realmIds: string[] }>(`${sim}/_sim/seed`, {
    seed: 2026,
    companies: 1,
    records: 300,
  });
  await post(`${sim}/_sim/consent`, { decision: 'approve', realmId: seeded.realmIds[0] });

  // 1. The platform's frontend asks auth-service to start a connect flow for its org.
  const initiated = await fetch(`${auth}/connect/quickbooks`, {
    method: 'POST',
    headers: { authorization: orgBearer, 'content-type': 'application/json', origin: PLATFORM_ORIGIN },
    body: JSON.stringify({ returnTo: `${PLATFORM_ORIGIN}/settings/integrations` }),
  });
  await expectStatus(initiated, 200, 'initiate the connect flow');
  const { authorizeUrl } = (await initiated.json()) as { authorizeUrl: string };
  const cookie = initiated.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  step(`${orgId} started a connect flow; the browser goes to Intuit (${new URL(authorizeUrl).origin})`);

  // 2. Intuit (the simulator, consenting at once) sends the browser back to the callback.
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = consent.headers.get('location');
  if (!callback) throw new Error(`the simulator did not redirect after consent (${consent.status})`);
  const done = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  const landing = new URL(done.headers.get('location') ?? 'about:blank');
  if (done.status !== 303 || landing.origin !== PLATFORM_ORIGIN) {
    throw new Error(`the callback did not return to the platform (${done.status} ${landing.origin})`);
  }
  const realmId = new URL(callback).searchParams.get('realmId') ?? '';
  step(`callback accepted; the browser lands on ${landing.origin}${landing.pathname} (realm ${realmId})`);

  // 3. The connection is registered and its credentials are in the vault.
  const list = await getJson<{ connections?: Connection[] } | Connection[]>(
    `${auth}/connections`,
    orgBearer,
    'list connections',
  );
  const connection = (Array.isArray(list) ? list : (list.connections ?? [])).find(
    (c) => c.realmId === realmId,
  );
  if (!connection) throw new Error('the new connection is not in the org’s list');
  step(`connection ${connection.id ?? connection.connectionId} is ${connection.status}`);
  const connectionId = String(connection.id ?? connection.connectionId);
  const vault = await getJson<{ status: string; credentialVersion: number }>(
    `${tokens}/internal/connections/${connectionId}/status`,
    operatorBearer,
    'read the credential status',
  );
  step(`token-service holds credential version ${vault.credentialVersion} (${vault.status})`);

  // 4. sync-service hears of the connection and loads the company, page by page; every record it mirrors
  //    goes out as an event of the run on the record change log.
  const load = await followInitialSync(databaseUrl, realmId, step);
  const ofLoad = (events: readonly RecordEvent[]) =>
    events.filter((e) => e.data.realmId === realmId && e.data.source?.runId === load.runId).length;
  const published = ofLoad(
    await records.until((seen) => ofLoad(seen) >= load.upserted, 'the initial sync’s record events'),
  );
  step(
    `initial sync complete: ${load.upserted} records in ${load.pages} pages (${load.apiCalls} API calls), ` +
      `${published} record events on qbo.records.v1`,
  );

  // 5. A change made in QuickBooks arrives as a signed webhook, verified and published before its 200; the
  //    notification brings sync-service's next delta forward, which publishes the record.
  const customer = await post<{ Id: string }>(`${sim}/_sim/companies/${realmId}/changes`, {
    op: 'create',
    entity: 'Customer',
    data: { DisplayName: `Demo customer ${Date.now()}` },
  });
  await post(`${sim}/_sim/webhooks/flush`, {});
  const deliveries = await getJson<{ status?: number; attempts?: { status?: number }[] }[]>(
    `${sim}/_sim/webhooks/deliveries`,
    undefined,
    'read the webhook deliveries',
  );
  const last = deliveries.at(-1);
  const delivered = last?.status ?? last?.attempts?.at(-1)?.status;
  if (delivered !== 200) throw new Error(`the webhook was answered ${delivered ?? 'not at all'}`);
  step('a customer created in QuickBooks arrived as a verified webhook, answered 200 after the Kafka ack');
  const isCustomer = (e: RecordEvent) =>
    e.type === 'RecordUpserted' && e.data.entity === 'Customer' && e.data.entityId === customer.Id;
  const change = (await records.until((seen) => seen.some(isCustomer), 'the new customer')).find(isCustomer);
  step(
    `sync-service published RecordUpserted Customer ${customer.Id} (op ${change?.data.op}) on qbo.records.v1`,
  );

  // 6. Intuit ends the access token early. The Accounting API refuses it; the caller asks token-service to
  //    refresh exactly that token (compare-and-refresh), and the new one works.
  await post(`${sim}/_sim/tokens/expire`, { realmId });
  const stale = await accessToken(tokens, connectionId, syncBearer);
  const refusedCall = await companyInfo(sim, realmId, stale.accessToken);
  if (refusedCall.status !== 401)
    throw new Error(`an expired token was answered ${refusedCall.status}, not 401`);
  const fresh = await refreshAfter(tokens, connectionId, syncBearer, stale.accessToken);
  await expectStatus(
    await companyInfo(sim, realmId, fresh.accessToken),
    200,
    'call the Accounting API with the refreshed token',
  );
  step(
    `Intuit refused the expired token (401); token-service refreshed it once (credential version ` +
      `${stale.credentialVersion} → ${fresh.credentialVersion}) and the Accounting API accepts the new one`,
  );

  // 7. The customer disconnects the app inside QuickBooks: the grant is dead. The next refresh is refused
  //    (and the last-known-good token with it), so the connection is deactivated once, and says so.
  await post(`${sim}/_sim/companies/${realmId}/revoke`, {});
  //    The token was force-refreshed moments ago, so the token-service first throttles (429 + Retry-After),
  //    as it does for anyone presenting a fresh token over and over; the demo waits, as sync-service would.
  let refused: Response;
  for (;;) {
    refused = await fetch(`${tokens}/internal/connections/${connectionId}/access-token/refresh`, {
      method: 'POST',
      headers: { authorization: syncBearer, 'content-type': 'application/json' },
      body: JSON.stringify({ rejectedAccessToken: fresh.accessToken }),
    });
    if (refused.status !== 429) break;
    const wait = Number(refused.headers.get('retry-after') ?? '1');
    step(`token-service throttles a second forced refresh this soon (429); retrying in ${wait} s`);
    await refused.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
  const problem = (await refused.json()) as { code?: string };
  step(`after Intuit revoked the grant, token-service answers ${refused.status} ${problem.code}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const seen = await getJson<Connection>(
      `${auth}/connections/${connectionId}`,
      orgBearer,
      'read the connection',
    );
    if (seen.status === 'deactivated') {
      step(`auth-service shows the connection deactivated (${seen.deactivationReason ?? 'no reason given'})`);
      break;
    }
    if (Date.now() > deadline)
      throw new Error(`the connection is still ${seen.status} 30 s after the revocation`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // 8. The org disconnects: auth-service announces it, and token-service shreds what it held.
  const gone = await fetch(`${auth}/connections/${connectionId}`, {
    method: 'DELETE',
    headers: { authorization: orgBearer },
  });
  await expectStatus(gone, 200, 'disconnect');
  const shredBy = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${tokens}/internal/connections/${connectionId}/status`, {
      headers: { authorization: operatorBearer },
    });
    const status = res.ok ? ((await res.json()) as { status: string }).status : `${res.status}`;
    if (status === 'disconnected') {
      step('the org disconnected; token-service shredded the connection’s credentials');
      break;
    }
    if (Date.now() > shredBy)
      throw new Error(`token-service still reports ${status} 30 s after the disconnect`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  step('story complete');
}

interface AccessToken {
  accessToken: string;
  credentialVersion: number;
}

const accessToken = (base: string, connectionId: string, authorization: string) =>
  getJson<AccessToken>(
    `${base}/internal/connections/${connectionId}/access-token`,
    authorization,
    'get an access token',
  );

async function refreshAfter(base: string, connectionId: string, authorization: string, rejected: string) {
  const res = await fetch(`${base}/internal/connections/${connectionId}/access-token/refresh`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ rejectedAccessToken: rejected }),
  });
  await expectStatus(res, 200, 'refresh the rejected access token');
  return (await res.json()) as AccessToken;
}

const companyInfo = (sim: string, realmId: string, token: string) =>
  fetch(`${sim}/v3/company/${realmId}/companyinfo/${realmId}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });

interface Connection {
  id?: string;
  connectionId?: string;
  realmId: string;
  status: string;
  deactivationReason?: string | null;
}

async function expectStatus(res: Response, status: number, what: string) {
  if (res.status === status) return;
  const body = await res.text().catch(() => '');
  throw new Error(`could not ${what}: ${res.status} ${body.slice(0, 300)}`);
}

async function getJson<T>(url: string, authorization: string | undefined, what: string): Promise<T> {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  await expectStatus(res, 200, what);
  return (await res.json()) as T;
}

async function post<T = unknown>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) await expectStatus(res, 200, `POST ${new URL(url).pathname}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** An HS256 org token, as the platform would sign one for its frontend. */
function orgToken(orgId: string, secret: string): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    iss: ORG_TOKEN_ISSUER,
    aud: ORG_TOKEN_AUDIENCE,
    sub: 'demo-user',
    org_id: orgId,
    iat: now,
    exp: now + 600,
  })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
