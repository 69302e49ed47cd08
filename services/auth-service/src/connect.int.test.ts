import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createEventProducer, createJsonSerde, type EventProducer } from '@qbo/event-bus';
import { createTestBus, readTopic, type TestBus } from '@qbo/event-bus/testing';
import {
  ConnectionDeactivated,
  createEventFactory,
  type EventOfType,
  SyncCompleted,
  topics,
} from '@qbo/events';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import {
  createTestDatabase,
  type ServiceProcess,
  type TestDatabase,
  testBrokers,
  uniqueName,
  waitFor,
} from '@qbo/testkit';
import {
  APP_ORIGIN,
  authEnv,
  Browser,
  CLIENT_SECRET,
  COOKIE_SECRET,
  freePort,
  orgToken,
  SERVICE_CREDENTIAL,
  startAuth,
  tokenCalls,
} from './testing/harness.js';
import { startTokenServiceDouble, type TokenServiceDouble } from './testing/token-service-double.js';

/** The fields the suite reads from service answers. */
interface Body {
  code?: string;
  status?: string;
  authorizeUrl?: string;
  realmId?: string;
  lastSyncAt?: string | null;
  deactivationReason?: string | null;
  reconnectUrl?: string | null;
  connections?: { id: string }[];
}
const read = async (res: Response | undefined): Promise<Body> => ((await res?.json()) ?? {}) as Body;

type Envelope = { type: string; orgId: string; realmId?: string; data: Record<string, unknown> };

describe('connect flow over real HTTP: simulator as Intuit, token-service double, Kafka, Postgres, Redis', () => {
  let db: TestDatabase;
  let bus: TestBus;
  let sim: Simulator;
  let tokenService: TokenServiceDouble;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let env: Record<string, string> = {};
  let producer: EventProducer;
  let realms: string[];
  /** Every state, code and org credential the suite handled: none may leak. */
  const handled = { states: new Set<string>(), codes: new Set<string>(), bearers: new Set<string>() };
  let ipSeq = 0;
  const freshRealm = () => sim.control.createCompany({ name: uniqueName('company') }).realmId;
  const browser = () => new Browser(`198.51.100.${++ipSeq}`);

  const outboxEvents = async (type?: string): Promise<Envelope[]> =>
    (
      await db.query<{ payload: Envelope }>(
        `select payload from auth.outbox ${type ? 'where type = $1' : ''} order by seq`,
        type ? [type] : [],
      )
    ).map((r) => r.payload);
  const tokenEndpointCalls = () => tokenCalls(sim.control.counters());
  const intuitRevokes = () => sim.control.counters()['-']?.revoke?.calls ?? 0;
  const bearer = async (orgId: string) => {
    const t = await orgToken(orgId);
    handled.bearers.add(t);
    return t;
  };
  const api = async (path: string, orgId: string, init: RequestInit = {}) =>
    new Browser('192.0.2.1').fetch(`${a.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${await bearer(orgId)}` },
    });

  /** Initiate → consent → callback; the consent's redirect carries the state and code the suite tracks. */
  async function startFlow(
    br: Browser,
    orgId: string,
    o: { realmId?: string; service?: ServiceProcess } = {},
  ) {
    const service = o.service ?? a;
    const { res, authorizeUrl } = await br.initiate(
      service.url,
      await bearer(orgId),
      `${APP_ORIGIN}/settings`,
    );
    assert.equal(res.status, 200, 'initiated');
    assert.ok(authorizeUrl);
    const state = new URL(authorizeUrl).searchParams.get('state') ?? '';
    handled.states.add(state);
    if (o.realmId) sim.control.nextConsent({ decision: 'approve', realmId: o.realmId });
    const callbackUrl = await br.consent(authorizeUrl);
    const code = callbackUrl.searchParams.get('code');
    if (code) handled.codes.add(code);
    return { state, callbackUrl, authorizeUrl };
  }

  async function connect(orgId: string, realmId: string) {
    const br = browser();
    const { callbackUrl } = await startFlow(br, orgId, { realmId });
    const res = await br.callback(callbackUrl);
    assert.equal(res.status, 303, await res.text());
    const location = new URL(res.headers.get('location') ?? '');
    return { res, location, connectionId: location.searchParams.get('connection') ?? '' };
  }

  before(async () => {
    db = await createTestDatabase('auth-connect');
    bus = await createTestBus({ topics: [topics.connections, topics.tokens, topics.syncRuns] });
    const rateLimitPrefix = uniqueName('rl');
    // The redirect URI registered at Intuit names the first replica's port, so the port is chosen up front;
    // another suite may take it in between, hence the retry.
    let first: ServiceProcess | undefined;
    for (let attempt = 1; !first; attempt++) {
      const port = await freePort();
      const redirectUri = `http://127.0.0.1:${port}/oauth/callback`;
      sim = await createSimulator({
        seed: { seed: 11, companies: 4, records: 5 },
        consent: 'auto',
        control: true,
        apps: [{ clientId: 'sim-client-id', clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }],
      });
      tokenService ??= await startTokenServiceDouble({ credential: SERVICE_CREDENTIAL });
      tokenService.intuitRevokeUrl = `${sim.url}/v2/oauth2/tokens/revoke`;
      env = authEnv({
        databaseUrl: db.url,
        brokers: testBrokers(),
        topicPrefix: bus.prefix,
        simUrl: sim.url,
        tokenServiceUrl: tokenService.url,
        redirectUri,
        rateLimitPrefix,
      });
      try {
        first = await startAuth({ ...env, PORT: String(port) });
      } catch (err) {
        await sim.close();
        if (attempt >= 3) throw err;
      }
    }
    a = first;
    // A second replica behind the same redirect URI, sharing the database, Kafka and the rate-limit store.
    b = await startAuth(env);
    realms = sim.control.companies().map((c) => c.realmId);
    producer = createEventProducer({
      kafka: bus.kafka,
      serde: createJsonSerde(),
      log: bus.log,
      names: bus.names,
    });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await Promise.all([a?.stop(), b?.stop()]);
    await tokenService?.close();
    await sim?.close();
    await db?.drop();
  });

  it('happy path: tokens reach the token-service, ConnectionEstablished reaches Kafka without a secret', async () => {
    const realmId = realms[0] ?? '';
    const { location, connectionId } = await connect('org-happy', realmId);
    assert.equal(location.origin, APP_ORIGIN);
    assert.equal(location.pathname, '/settings');
    assert.equal(location.searchParams.get('status'), 'connected');
    assert.match(connectionId, /^[0-9a-f-]{36}$/);

    const stored = tokenService.stores.filter((s) => s.connectionId === connectionId);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.body.orgId, 'org-happy');
    assert.equal(stored[0]?.body.realmId, realmId);
    assert.deepEqual(stored[0]?.body.scopes, ['com.intuit.quickbooks.accounting', 'openid']);
    assert.equal(tokenEndpointCalls(), 1, 'one code exchange, with the PKCE verifier the simulator checked');

    const [message] = await readTopic(bus.kafka, bus.names.physical(topics.connections), 1);
    assert.equal(String(message?.message.key), 'org-happy');
    const text = String(message?.message.value);
    const event = JSON.parse(text) as EventOfType<'ConnectionEstablished'>;
    assert.equal(event.type, 'ConnectionEstablished');
    assert.equal(event.data.connectionId, connectionId);
    assert.equal(event.data.realmId, realmId);
    assert.equal(event.data.connectedBy, 'user-of-org-happy', 'the platform user who connected it');
    for (const secret of [
      stored[0]?.body.accessToken,
      stored[0]?.body.refreshToken,
      ...handled.codes,
      ...handled.states,
    ])
      assert.ok(secret && !text.includes(secret), 'no token, code or state in the event');

    const view = await read(await api(`/connections/${connectionId}`, 'org-happy'));
    assert.equal(view.status, 'active');
    assert.equal(view.realmId, realmId);
    assert.equal(view.lastSyncAt, null);
    const state = await db.query('select state_hash, used_at from auth.oauth_state');
    assert.equal(state.length, 1);
    assert.notEqual(state[0]?.state_hash, [...handled.states][0], 'the state is stored hashed');
    assert.ok(state[0]?.used_at, 'and spent');
  });

  describe('attacks, each refused before any code exchange', () => {
    let exchangesBefore = 0;
    before(() => {
      exchangesBefore = tokenEndpointCalls();
    });
    const rejections = async (reason: string) =>
      (await outboxEvents('ConnectAttemptRejected')).filter((e) => e.data.reason === reason);

    it('forged and missing state', async () => {
      const br = browser();
      const own = await startFlow(br, 'org-forge', { realmId: freshRealm() });
      const forged = await br.callback(
        `${a.url}/oauth/callback?code=stolen-code-value&state=${'A'.repeat(43)}&realmId=${realms[1]}`,
      );
      assert.equal(forged.status, 400);
      assert.match(forged.headers.get('content-type') ?? '', /text\/html/);
      const page = await forged.text();
      assert.match(page, /not recognised/);
      assert.doesNotMatch(page, /stolen-code-value|AAAA|at .*\.js/);
      const missing = await br.callback(
        `${a.url}/oauth/callback?code=x&realmId=${realms[1]}`,
        'application/json',
      );
      assert.equal(missing.status, 400);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
      assert.equal((await read(missing)).code, 'state_missing');
      assert.equal(tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('state_unknown')).length, 1);
      assert.equal((await rejections('state_missing')).length, 1);

      assert.equal(br.cookies.size, 1, 'the forged callbacks left this browser’s binding alone');
      const ownCallback = await br.callback(own.callbackUrl);
      assert.equal(ownCallback.status, 303, 'its own attempt still completes');
      assert.equal(br.cookies.size, 0, 'and the spent binding is cleared');
      exchangesBefore = tokenEndpointCalls();
    });

    it('replayed state: the second use of a spent callback is refused', async () => {
      const br = browser();
      const { callbackUrl } = await startFlow(br, 'org-replay', { realmId: realms[1] ?? '' });
      const cookie = new Map(br.cookies);
      const first = await br.callback(callbackUrl);
      assert.equal(first.status, 303);
      const afterFirst = tokenEndpointCalls();
      // The attacker replays with the victim's cookie too: the state itself is spent.
      for (const [k, v] of cookie) br.cookies.set(k, v);
      const replay = await br.callback(callbackUrl, 'application/json');
      assert.equal(replay.status, 400);
      assert.equal((await read(replay)).code, 'state_reused');
      assert.equal(tokenEndpointCalls(), afterFirst, 'no second exchange');
      exchangesBefore = afterFirst;
      assert.equal((await rejections('state_reused')).length, 1);
    });

    it('expired state', async () => {
      const br = browser();
      const { state, callbackUrl } = await startFlow(br, 'org-expired');
      const hash = createHash('sha256').update(state).digest('hex');
      await db.query(
        `update auth.oauth_state set expires_at = now() - interval '1 second' where state_hash = $1`,
        [hash],
      );
      const res = await br.callback(callbackUrl, 'application/json');
      assert.equal(res.status, 400);
      assert.equal((await read(res)).code, 'state_expired');
      assert.equal(tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('state_expired')).length, 1);
    });

    it('state from another browser (cookie mismatch), also with a cookie of its own flow', async () => {
      const victim = browser();
      const { callbackUrl } = await startFlow(victim, 'org-victim', { realmId: freshRealm() });
      const attacker = browser();
      const none = await attacker.callback(callbackUrl, 'application/json');
      assert.equal(none.status, 403);
      assert.equal((await read(none)).code, 'cookie_mismatch');
      await startFlow(attacker, 'org-attacker');
      const own = await attacker.callback(callbackUrl, 'application/json');
      assert.equal(own.status, 403);
      assert.equal((await read(own)).code, 'cookie_mismatch');
      assert.equal(tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('cookie_mismatch')).length, 2);
      // The victim's own browser can still finish: a mismatch does not spend the state.
      const ok = await victim.callback(callbackUrl);
      assert.equal(ok.status, 303);
      exchangesBefore = tokenEndpointCalls();
    });

    it('open redirect: returnTo outside the allowlist is refused at initiation, no state created', async () => {
      const br = browser();
      const statesBefore = (await db.query('select count(*)::int as n from auth.oauth_state'))[0]?.n;
      for (const returnTo of [
        'https://evil.example/steal',
        'https://app.example.com.evil.example/',
        'https://app.example.com@evil.example/',
        '//evil.example/',
        'javascript:alert(1)',
      ]) {
        // One org per attempt: the per-org limit (three a window) is not what this test is about.
        const { res } = await br.initiate(a.url, await bearer(uniqueName('org-redirect')), returnTo);
        assert.equal(res.status, 400, returnTo);
        const body = await read(res);
        assert.equal(body.code, 'return_to_not_allowed');
        assert.equal(body.authorizeUrl, undefined);
      }
      assert.equal((await db.query('select count(*)::int as n from auth.oauth_state'))[0]?.n, statesBefore);
      assert.equal(br.cookies.size, 0, 'no binding cookie handed out');
      const audits = await rejections('return_to_not_allowed');
      assert.equal(audits.length, 5);
      assert.ok(audits.some((e) => e.data.returnToOrigin === 'https://evil.example'));
      assert.equal(tokenEndpointCalls(), exchangesBefore);
    });

    it("Intuit's error=access_denied: no exchange, back to the app with an error flag; forged errors get a page", async () => {
      const br = browser();
      sim.control.nextConsent({ decision: 'deny' });
      const { callbackUrl } = await startFlow(br, 'org-denied');
      assert.equal(callbackUrl.searchParams.get('error'), 'access_denied');
      const res = await br.callback(callbackUrl);
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(location.origin, APP_ORIGIN);
      assert.equal(location.searchParams.get('status'), 'error');
      assert.equal(location.searchParams.get('error'), 'access_denied');
      const again = await br.callback(callbackUrl, 'application/json');
      assert.equal(again.status, 400, 'the state was spent by the refusal');
      const forged = await browser().callback(`${a.url}/oauth/callback?error=access_denied`);
      assert.equal(forged.status, 400);
      assert.equal(tokenEndpointCalls(), exchangesBefore);
      const audits = await rejections('provider_error');
      assert.ok(audits.filter((e) => e.data.providerError === 'access_denied').length >= 2);
    });

    it('refusal pages carry security headers and no stack trace', async () => {
      const res = await browser().callback(`${a.url}/oauth/callback?state=nope&code=nope&realmId=1`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=/);
      assert.doesNotMatch(await res.text(), /Error:|\bat \S+ \(/);
    });
  });

  it('a realm held by another org is refused (409) before the exchange; after a disconnect it may move', async () => {
    const realmId = realms[2] ?? '';
    const owner = await connect('org-owner', realmId);
    const exchanges = tokenEndpointCalls();
    const br = browser();
    const { callbackUrl } = await startFlow(br, 'org-other', { realmId });
    const refused = await br.callback(callbackUrl, 'application/json');
    assert.equal(refused.status, 409);
    assert.equal((await read(refused)).code, 'realm_owned_by_other_org');
    assert.equal(tokenEndpointCalls(), exchanges, 'no exchange for a refused realm');

    const disconnected = await api(`/connections/${owner.connectionId}`, 'org-owner', { method: 'DELETE' });
    assert.equal(disconnected.status, 200);
    const moved = await connect('org-other', realmId);
    assert.notEqual(moved.connectionId, owner.connectionId);

    // A connect after a disconnect is a new connection, even for the same org and realm: the disconnect's
    // shredding at the token-service can then never reach the new grant.
    await api(`/connections/${moved.connectionId}`, 'org-other', { method: 'DELETE' });
    const again = await connect('org-other', realmId);
    assert.notEqual(again.connectionId, moved.connectionId);
    const established = (await outboxEvents('ConnectionEstablished')).filter(
      (e) => e.data.connectionId === again.connectionId,
    );
    assert.equal(established.length, 1);
  });

  it("a callback whose realmId was edited is refused: Intuit's ID token names another company", async () => {
    const granted = freshRealm();
    const claimed = freshRealm();
    const br = browser();
    const { callbackUrl } = await startFlow(br, 'org-tamper', { realmId: granted });
    callbackUrl.searchParams.set('realmId', claimed);
    const revokes = sim.control.counters()['-']?.revoke?.calls ?? 0;
    const res = await br.callback(callbackUrl, 'application/json');
    assert.equal(res.status, 400);
    assert.equal((await read(res)).code, 'provider_error');
    assert.equal(
      (await db.query('select 1 from auth.connection where org_id = $1', ['org-tamper'])).length,
      0,
    );
    assert.ok(!tokenService.stores.some((s) => s.body.orgId === 'org-tamper'), 'no tokens handed on');
    assert.equal(sim.control.counters()['-']?.revoke?.calls, revokes + 1, 'the stray grant was revoked');
    const audit = (await outboxEvents('ConnectAttemptRejected')).filter((e) => e.orgId === 'org-tamper');
    assert.equal(audit[0]?.data.providerError, 'realm_mismatch');
  });

  it('connections API: list, get, 401 without or with a bad credential, 404 for another org, idempotent disconnect', async () => {
    const realmId = realms[3] ?? '';
    const { connectionId } = await connect('org-api', realmId);
    const list = await read(await api('/connections', 'org-api'));
    assert.deepEqual(
      (list.connections ?? []).map((c) => c.id),
      [connectionId],
    );
    assert.equal((await fetch(`${a.url}/connections`)).status, 401);
    const forged = await orgToken('org-api', { secret: 'a-different-secret-that-is-long-enough' });
    assert.equal(
      (await fetch(`${a.url}/connections`, { headers: { authorization: `Bearer ${forged}` } })).status,
      401,
    );
    const wrongAudience = await orgToken('org-api', { audience: 'someone-else' });
    assert.equal(
      (await fetch(`${a.url}/connections`, { headers: { authorization: `Bearer ${wrongAudience}` } })).status,
      401,
    );
    assert.equal((await api(`/connections/${connectionId}`, 'org-intruder')).status, 404);
    assert.equal(
      (await api(`/connections/${connectionId}`, 'org-intruder', { method: 'DELETE' })).status,
      404,
    );

    const revokesBefore = sim.control.counters()['-']?.revoke?.calls ?? 0;
    const first = await api(`/connections/${connectionId}`, 'org-api', { method: 'DELETE' });
    assert.equal(first.status, 200);
    const view = await read(first);
    assert.equal(view.status, 'disconnected');
    assert.match(String(view.reconnectUrl), /\/connect\/quickbooks$/);
    const second = await api(`/connections/${connectionId}`, 'org-api', { method: 'DELETE' });
    assert.equal(second.status, 200);
    assert.equal((await read(second)).status, 'disconnected');
    const events = (await outboxEvents('ConnectionDisconnected')).filter(
      (e) => e.data.connectionId === connectionId,
    );
    assert.equal(events.length, 1, 'one ConnectionDisconnected for two calls');
    assert.equal(events[0]?.data.revokedAtIntuit, true);
    assert.equal(
      sim.control.counters()['-']?.revoke?.calls ?? 0,
      revokesBefore + 1,
      'revoked at Intuit once',
    );
  });

  it('a failed hand-off to the token-service records nothing, emits nothing and revokes the grant at Intuit', async () => {
    for (const mode of ['unavailable', 'unreachable', 'stores-unavailable'] as const) {
      const before = (await outboxEvents()).length;
      const revokes = intuitRevokes();
      const br = browser();
      const { callbackUrl } = await startFlow(br, `org-handoff-${mode}`, { realmId: freshRealm() });
      tokenService.setMode(mode);
      try {
        const res = await br.callback(callbackUrl, 'application/json');
        assert.equal(res.status, 503, mode);
        assert.equal((await read(res)).code, 'token_service_unavailable');
      } finally {
        tokenService.setMode('ok');
      }
      const rows = await db.query('select 1 from auth.connection where org_id = $1', [`org-handoff-${mode}`]);
      assert.equal(rows.length, 0, `no connection recorded (${mode})`);
      assert.equal((await outboxEvents()).length, before, `no event (${mode})`);
      assert.equal(intuitRevokes(), revokes + 1, `the grant nobody holds was revoked at Intuit (${mode})`);
    }

    // Renewing a live connection: its connection at the token-service is left alone, the new grant revoked.
    const org = 'org-handoff-renew';
    const realmId = freshRealm();
    const { connectionId } = await connect(org, realmId);
    const br = browser();
    const { callbackUrl } = await startFlow(br, org, { realmId });
    const revokes = intuitRevokes();
    tokenService.setMode('stores-unavailable');
    try {
      assert.equal((await br.callback(callbackUrl, 'application/json')).status, 503);
    } finally {
      tokenService.setMode('ok');
    }
    assert.ok(!tokenService.revokes.includes(connectionId), 'not revoked through the token-service');
    assert.equal(tokenService.current(connectionId)?.status, 'active');
    assert.equal(intuitRevokes(), revokes + 1, 'the new grant was revoked at Intuit');
    assert.equal((await read(await api(`/connections/${connectionId}`, org))).status, 'active');
  });

  it('two orgs racing for one realm: the loser is refused (409) and its grant revoked through the token-service', async () => {
    const realmId = freshRealm();
    const winner = browser();
    const loser = browser();
    const lost = await startFlow(loser, 'org-race-loser', { realmId });
    const won = await startFlow(winner, 'org-race-winner', { realmId });
    const revokes = intuitRevokes();
    let winnerStatus = 0;
    // The loser's credentials are stored; before it records its row, the winner completes its whole connect.
    tokenService.afterStore = async () => {
      tokenService.afterStore = undefined;
      winnerStatus = (await winner.callback(won.callbackUrl, 'application/json')).status;
    };
    try {
      const res = await loser.callback(lost.callbackUrl, 'application/json');
      assert.equal(res.status, 409);
      assert.equal((await read(res)).code, 'realm_owned_by_other_org');
    } finally {
      tokenService.afterStore = undefined;
    }
    assert.equal(winnerStatus, 303, 'the winner connected');
    const loserId = tokenService.stores.find((st) => st.body.orgId === 'org-race-loser')?.connectionId;
    assert.ok(loserId);
    assert.deepEqual(
      tokenService.revokes.filter((id) => id === loserId),
      [loserId],
      "the loser's grant is revoked through the token-service",
    );
    assert.equal(tokenService.current(loserId)?.status, 'disconnected');
    assert.equal(intuitRevokes(), revokes + 1, 'and at Intuit');
    const rows = await db.query<{ org_id: string }>(
      'select org_id from auth.connection where realm_id = $1',
      [realmId],
    );
    assert.deepEqual(
      rows.map((r) => r.org_id),
      ['org-race-winner'],
    );
  });

  it('a disconnect landing during a reconnect keeps the connection disconnected (409) and revokes the new grant', async () => {
    const org = 'org-disconnect-race';
    const realmId = freshRealm();
    const { connectionId } = await connect(org, realmId);
    const br = browser();
    const { callbackUrl } = await startFlow(br, org, { realmId });
    const revokesBefore = tokenService.revokes.filter((id) => id === connectionId).length;
    let disconnectStatus = 0;
    // The reconnect reuses the live connection's id; the user disconnects it while the new grant is handed off.
    tokenService.afterStore = async () => {
      tokenService.afterStore = undefined;
      disconnectStatus = (await api(`/connections/${connectionId}`, org, { method: 'DELETE' })).status;
    };
    try {
      const res = await br.callback(callbackUrl, 'application/json');
      assert.equal(res.status, 409);
      assert.equal((await read(res)).code, 'connection_disconnected_meanwhile');
    } finally {
      tokenService.afterStore = undefined;
    }
    assert.equal(disconnectStatus, 200);
    assert.equal((await read(await api(`/connections/${connectionId}`, org))).status, 'disconnected');
    assert.equal(
      tokenService.revokes.filter((id) => id === connectionId).length,
      revokesBefore + 2,
      'revoked by the disconnect and again for the discarded grant',
    );
    assert.ok(
      a.logs.some(
        (l) => l.msg === 'connect attempt rejected' && l.reason === 'connection_disconnected_meanwhile',
      ),
      'logged',
    );
    const audit = (await outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.orgId === org && e.data.reason === 'connection_disconnected_meanwhile',
    );
    assert.equal(audit.length, 1, 'audited once');
  });

  it('request bodies over 4 KiB are refused with 413 payload_too_large before they are read', async () => {
    const br = browser();
    const res = await br.fetch(`${a.url}/connect/quickbooks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await bearer(uniqueName('org-big'))}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ returnTo: `${APP_ORIGIN}/`, pad: 'x'.repeat(5000) }),
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await read(res)).code, 'payload_too_large');
    assert.equal(br.cookies.size, 0, 'no state started');
    const chunked = await br.fetch(`${a.url}/connect/quickbooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await bearer(uniqueName('org-big'))}` },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"returnTo":"${'y'.repeat(5000)}"}`));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit & { headers: Record<string, string> });
    assert.equal(chunked.status, 413, 'without a Content-Length too');
  });

  it('reconnect after deactivation: same connection id, ConnectionReauthorized, status back to active', async () => {
    const org = 'org-reconnect';
    const own = freshRealm();
    const { connectionId } = await connect(org, own);
    const events = createEventFactory({ source: 'token-service' });
    await producer.publish(
      events(ConnectionDeactivated, {
        orgId: org,
        realmId: own,
        data: {
          connectionId,
          realmId: own,
          reason: 'invalid_grant',
          attempts: 2,
          deactivatedAt: new Date().toISOString(),
        },
      }),
    );
    const deactivated = await waitFor(
      async () => {
        const v = await read(await api(`/connections/${connectionId}`, org));
        return v.status === 'deactivated' ? v : undefined;
      },
      { timeoutMs: 60_000, what: 'the status view shows the deactivation' },
    );
    assert.equal(deactivated.deactivationReason, 'invalid_grant');
    assert.match(String(deactivated.reconnectUrl), /\/connect\/quickbooks$/);

    const again = await connect(org, own);
    assert.equal(again.connectionId, connectionId, 'the connection id is stable per org and realm');
    const reauth = (await outboxEvents('ConnectionReauthorized')).filter(
      (e) => e.data.connectionId === connectionId,
    );
    assert.equal(reauth.length, 1);
    assert.equal(reauth[0]?.data.previousStatus, 'deactivated');
    const view = await read(await api(`/connections/${connectionId}`, org));
    assert.equal(view.status, 'active');
    assert.equal(view.deactivationReason, null);
    assert.equal(tokenService.current(connectionId)?.version, 2, 'the token-service got the new grant');

    const completedAt = new Date().toISOString();
    await producer.publish(
      createEventFactory({ source: 'sync-service' })(SyncCompleted, {
        orgId: org,
        realmId: own,
        data: {
          syncRunId: randomUUID(),
          connectionId,
          mode: 'initial',
          startedAt: completedAt,
          completedAt,
          counts: { upserted: 3, deleted: 0, unchanged: 0 },
          apiCalls: 2,
          failedItems: 0,
        },
      }),
    );
    await waitFor(
      async () =>
        (await read(await api(`/connections/${connectionId}`, org))).lastSyncAt ===
        new Date(completedAt).toISOString(),
      { timeoutMs: 60_000, what: 'the last sync is projected' },
    );
  });

  it('rate limits are shared by both replicas through Redis: 429 with Retry-After, audited', async () => {
    const br = new Browser('203.0.113.77');
    const token = await bearer('org-limited');
    const statuses: number[] = [];
    let last: Response | undefined;
    for (const service of [a, b, a, b]) {
      last = (await br.initiate(service.url, token, `${APP_ORIGIN}/`)).res;
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429], 'three per org per window, across replicas');
    assert.ok(Number(last?.headers.get('retry-after')) > 0);
    assert.equal((await read(last)).code, 'rate_limited');

    const cb = new Browser('203.0.113.78');
    const callbackStatuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      const service = i % 2 === 0 ? a : b;
      callbackStatuses.push(
        (await cb.callback(`${service.url}/oauth/callback?state=x${i}`, 'application/json')).status,
      );
    }
    assert.deepEqual(callbackStatuses, [400, 400, 400, 400, 400, 400, 400, 400, 429]);
    const limited = (await outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.data.reason === 'rate_limited',
    );
    assert.equal(limited.length, 2);
  });

  it('initiation needs an org credential (401, audited); GET answers a 302 to Intuit with PKCE S256', async () => {
    const br = browser();
    for (const body of ['{not json', '{"returnTo": 42}', '[]']) {
      const bad = await br.fetch(`${a.url}/connect/quickbooks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await bearer(uniqueName('org-body'))}`,
          'content-type': 'application/json',
        },
        body,
      });
      assert.equal(bad.status, 400, body);
      assert.equal((await read(bad)).code, 'invalid_request');
    }
    const none = await br.fetch(`${a.url}/connect/quickbooks`, { method: 'POST' });
    assert.equal(none.status, 401);
    assert.equal((await read(none)).code, 'unauthenticated');
    const expired = await orgToken('org-get', { expiresIn: '-1m' });
    assert.equal((await br.initiate(a.url, expired)).res.status, 401);
    assert.equal(br.cookies.size, 0);
    const audits = (await outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.data.reason === 'unauthenticated',
    );
    assert.equal(audits.length, 2);
    assert.equal(audits[0]?.orgId, '_unknown');

    const res = await br.fetch(
      `${a.url}/connect/quickbooks?returnTo=${encodeURIComponent(`${APP_ORIGIN}/x`)}`,
      {
        headers: { authorization: `Bearer ${await bearer('org-get')}` },
      },
    );
    assert.equal(res.status, 302);
    const authorize = new URL(res.headers.get('location') ?? '');
    handled.states.add(authorize.searchParams.get('state') ?? '');
    assert.equal(authorize.origin + authorize.pathname, `${sim.url}/connect/oauth2`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(authorize.searchParams.get('scope'), 'com.intuit.quickbooks.accounting openid');
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^qbo_connect=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/,
    );
  });

  it('CORS answers only allowlisted origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${a.url}/connect/quickbooks`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    const foreign = await preflight('https://evil.example');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('no token, code, state, credential or secret in any log line, event or response of the suite', async () => {
    await waitFor(
      async () => (await db.query('select 1 from auth.outbox where sent_at is null')).length === 0,
      { timeoutMs: 30_000, what: 'the outbox drained' },
    );
    const total = (await outboxEvents()).length;
    const messages = await readTopic(bus.kafka, bus.names.physical(topics.connections), total);
    const eventText = messages.map((m) => String(m.message.value)).join('\n');
    const tokens = tokenService.stores.flatMap((s) => [s.body.accessToken, s.body.refreshToken]);
    assert.ok(
      tokens.length >= 10 && handled.codes.size >= 8 && handled.states.size >= 10,
      'the scan has material',
    );
    const neverAnywhere = [
      ...tokens,
      ...handled.codes,
      ...handled.bearers,
      CLIENT_SECRET,
      COOKIE_SECRET,
      SERVICE_CREDENTIAL,
    ];
    const logs = a.output() + b.output();
    const responses = Browser.seen.map((r) => `${r.headers}\n${r.body}`).join('\n');
    for (const secret of neverAnywhere) {
      assert.ok(!logs.includes(secret), 'a secret reached a log line');
      assert.ok(!eventText.includes(secret), 'a secret reached an event');
      assert.ok(!responses.includes(secret), 'a secret reached a response');
    }
    // A state appears once by design, in the initiate answer's authorize URL; never in logs, events or callbacks.
    const callbackResponses = Browser.seen
      .filter((r) => r.url.includes('/oauth/callback') || r.url.includes('/connections'))
      .map((r) => `${r.headers}\n${r.body}`)
      .join('\n');
    for (const state of handled.states) {
      assert.ok(!logs.includes(state), 'a state reached a log line');
      assert.ok(!eventText.includes(state), 'a state reached an event');
      assert.ok(!callbackResponses.includes(state), 'a state was echoed');
    }
    assert.ok(
      a.logs.some((l) => l.msg === 'connect attempt rejected'),
      'the scan read real log output',
    );
    // The service's only errors are the hand-offs the suite made fail on purpose (kafkajs reports group
    // rebalances as errors; those are its own).
    const errors = [...a.logs, ...b.logs].filter(
      (l) => (l.level === 'error' || l.level === 'fatal') && l.component !== 'kafkajs',
    );
    assert.deepEqual([...new Set(errors.map((l) => l.msg))], ['credentials not handed to the token-service']);
  });
});
