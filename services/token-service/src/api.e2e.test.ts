import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTokenServiceClient, TokenServiceError } from '@qbo/token-api';
import {
  CALLER_CREDENTIALS,
  connectAndStore,
  connectionsProducer,
  createEnv,
  type Env,
  type InProcessService,
  key,
  publishDisconnect,
  recordingMetrics,
  refreshStatusAtIntuit,
  serviceEnv,
  startInProcess,
  tokenCalls,
  waitFor,
} from './testing/harness.js';

const HOUR = 3_600_000;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );

describe('token-service internal API (simulator as Intuit, real Postgres and Kafka)', () => {
  let env: Env;
  let vars: Record<string, string>;
  let a: InProcessService;
  const metrics = recordingMetrics();

  before(async () => {
    env = await createEnv('token_api', { clock: { start: '2026-11-25T12:00:00Z', frozen: true } });
    // Only requests refresh here: the scheduler would add calls the counts below must not see.
    vars = serviceEnv(env, {
      TOKEN_KEYS: `k1:${key()}`,
      TOKEN_ACTIVE_KEY_ID: 'k1',
      SCHEDULER_INTERVAL_MS: String(HOUR),
    });
    a = await startInProcess(vars, { now: () => env.sim.control.clock.now(), metrics });
  });
  after(async () => {
    await a?.stop();
    await env?.close();
  });

  it('stores a grant idempotently and serves its token from the vault; status holds no secret', async () => {
    const c = await connectAndStore(env.sim, a.client);
    const calls = tokenCalls(env.sim);
    const again = await a.client.storeCredentials(c.connectionId, {
      orgId: c.orgId,
      realmId: c.realmId,
      environment: 'sandbox',
      accessToken: c.accessToken,
      refreshToken: c.refreshToken,
      accessTokenExpiresAt: new Date(env.sim.control.clock.now() + HOUR).toISOString(),
      refreshTokenExpiresAt: new Date(env.sim.control.clock.now() + 100 * 24 * HOUR).toISOString(),
      scopes: ['com.intuit.quickbooks.accounting'],
    });
    assert.deepEqual(again, { connectionId: c.connectionId, credentialVersion: 1, changed: false });

    const token = await a.client.getAccessToken(c.connectionId, { minValiditySeconds: 60 });
    assert.equal(token.accessToken, c.accessToken);
    assert.equal(token.credentialVersion, 1);
    assert.equal(tokenCalls(env.sim), calls, 'a valid token is served without calling Intuit');

    const status = await a.client.status(c.connectionId);
    assert.equal(status.status, 'active');
    assert.equal(status.orgId, c.orgId);
    const text = JSON.stringify(status);
    assert.ok(!text.includes(c.accessToken) && !text.includes(c.refreshToken));

    const conflict = await failure(
      a.client.storeCredentials(c.connectionId, {
        orgId: 'another-org',
        realmId: c.realmId,
        environment: 'sandbox',
        accessToken: 'x',
        refreshToken: 'y',
        accessTokenExpiresAt: new Date().toISOString(),
        refreshTokenExpiresAt: new Date().toISOString(),
        scopes: ['com.intuit.quickbooks.accounting'],
      }),
    );
    assert.ok(conflict instanceof TokenServiceError);
    assert.equal(conflict.code, 'connection_conflict');
    assert.equal(conflict.httpStatus, 409);
  });

  it('answers 401 without the service credential, 400 for bad input and 404 for an unknown connection', async () => {
    const stranger = createTokenServiceClient({ baseUrl: a.url, credential: () => 'not-the-credential' });
    const denied = await failure(stranger.status('c1'));
    assert.ok(denied instanceof TokenServiceError);
    assert.equal(denied.code, 'unauthenticated');
    assert.equal(denied.httpStatus, 401);

    const unknown = await failure(a.client.getAccessToken('no-such-connection'));
    assert.ok(unknown instanceof TokenServiceError);
    assert.equal(unknown.code, 'connection_not_found');

    const bad = await fetch(`${a.url}/internal/connections/c1/credentials`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${CALLER_CREDENTIALS['auth-service']}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ orgId: 'o', refreshToken: 'secret-refresh-value' }),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json');
    const body = await bad.text();
    assert.match(body, /"code":"invalid_request"/);
    assert.doesNotMatch(body, /secret-refresh-value/);

    const tooLong = await failure(a.client.getAccessToken('c1', { minValiditySeconds: 99_999 }));
    assert.ok(tooLong instanceof TokenServiceError);
    assert.equal(tooLong.code, 'invalid_request');
  });

  it('refreshes an expired token once for 1,000 concurrent requests, and once across two replicas', async () => {
    const c = await connectAndStore(env.sim, a.client);
    env.sim.control.clock.advance(HOUR + 1000);
    let calls = tokenCalls(env.sim);
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () => a.client.getAccessToken(c.connectionId)),
    );
    assert.equal(tokenCalls(env.sim) - calls, 1, 'exactly one refresh at Intuit');
    const fresh = new Set(answers.map((t) => t.accessToken));
    assert.equal(fresh.size, 1, 'every caller got the same new token');
    assert.ok(!fresh.has(c.accessToken));
    assert.equal(answers[0]?.credentialVersion, 2);

    const b = await startInProcess(vars, { now: () => env.sim.control.clock.now() });
    try {
      env.sim.control.clock.advance(HOUR + 1000);
      calls = tokenCalls(env.sim);
      const both = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => (i % 2 ? a.client : b.client).getAccessToken(c.connectionId)),
      );
      assert.equal(tokenCalls(env.sim) - calls, 1, 'exactly one refresh across two replicas');
      assert.equal(new Set(both.map((t) => t.accessToken)).size, 1);
      assert.equal(both[0]?.credentialVersion, 3);

      // Compare-and-refresh: every caller reports the same rejected token; one refresh serves them all.
      const rejected = both[0]?.accessToken ?? '';
      calls = tokenCalls(env.sim);
      const renewed = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? a.client : b.client).refreshAfterRejection(c.connectionId, rejected),
        ),
      );
      assert.equal(tokenCalls(env.sim) - calls, 1);
      assert.equal(new Set(renewed.map((t) => t.accessToken)).size, 1);
      assert.notEqual(renewed[0]?.accessToken, rejected);
      // A caller reporting an old token gets the current one without another refresh.
      const stale = await b.client.refreshAfterRejection(c.connectionId, rejected);
      assert.equal(stale.accessToken, renewed[0]?.accessToken);
      assert.equal(tokenCalls(env.sim) - calls, 1);
    } finally {
      await b.stop();
    }
  });

  it("runs two replicas' schedulers over the same due rows without refreshing any twice", async () => {
    const b = await startInProcess(vars, { now: () => env.sim.control.clock.now() });
    try {
      for (let i = 0; i < 40; i++) await connectAndStore(env.sim, a.client);
      env.sim.control.clock.advance(HOUR);
      const due = await env.db.query<{ connection_id: string; credential_version: number }>(
        `select connection_id, credential_version from token.credential
         where status = 'active' and next_refresh_at <= $1`,
        [new Date(env.sim.control.clock.now()).toISOString()],
      );
      assert.ok(due.length >= 40);
      const calls = tokenCalls(env.sim);
      // Each refresh takes a moment at Intuit, so one replica cannot finish every row before the other starts.
      const slow = env.sim.control.addFault({ kind: 'latency', endpoint: 'token', latencyMs: 25 });
      const [x, y] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]).finally(() =>
        env.sim.control.removeFault(slow.id),
      );
      assert.equal(x + y, due.length, 'between them, the replicas refreshed each due row');
      assert.equal(tokenCalls(env.sim) - calls, due.length, 'one Intuit call per row, none twice');
      const after = await env.db.query<{ connection_id: string; credential_version: number }>(
        'select connection_id, credential_version from token.credential where connection_id = any($1)',
        [due.map((d) => d.connection_id)],
      );
      const before = new Map(due.map((d) => [d.connection_id, d.credential_version]));
      for (const row of after) assert.equal(row.credential_version, (before.get(row.connection_id) ?? 0) + 1);
      assert.ok(x > 0 && y > 0, `both replicas took part (${x} + ${y})`);
    } finally {
      await b.stop();
    }
  });

  it('revokes at Intuit on request, stops serving the token at once, and shreds on the disconnect', async () => {
    const c = await connectAndStore(env.sim, a.client);
    const answer = await a.client.revoke(c.connectionId);
    assert.deepEqual(answer, { connectionId: c.connectionId, revokedAtIntuit: true });
    assert.equal(metrics.counts.get('revoke:ok'), 1);
    // The grant is dead at Intuit: a direct refresh with its token now fails there.
    assert.equal(await refreshStatusAtIntuit(env.sim, c.refreshToken), 400);
    const status = await a.client.status(c.connectionId);
    assert.equal(status.status, 'disconnected', 'status shows the revocation before any event arrives');
    assert.equal(status.nextRefreshAt, null);
    // The access token was revoked with the grant: it is not handed out any more.
    const gone = await failure(a.client.getAccessToken(c.connectionId));
    assert.ok(gone instanceof TokenServiceError);
    assert.equal(gone.code, 'connection_disconnected');
    assert.equal(gone.httpStatus, 410);
    const rejected = await failure(a.client.refreshAfterRejection(c.connectionId, c.accessToken));
    assert.ok(rejected instanceof TokenServiceError);
    assert.equal(rejected.httpStatus, 410);
    // A retried revoke gets the same answer without calling Intuit again.
    assert.deepEqual(await a.client.revoke(c.connectionId), answer);
    assert.equal(metrics.counts.get('revoke:ok'), 1);

    // The data key stays until ConnectionDisconnected shreds it.
    const dataKey = () =>
      env.db.query('select 1 from token.data_key where connection_id = $1', [c.connectionId]);
    assert.equal((await dataKey()).length, 1);
    const producer = await connectionsProducer(env.bus);
    try {
      await publishDisconnect(producer, c, true);
    } finally {
      await producer.disconnect();
    }
    await waitFor(async () => (await dataKey()).length === 0, {
      timeoutMs: 30_000,
      what: 'the data key shredded',
    });
    const [row] = await env.db.query<{ status: string; access_token_sealed: string | null }>(
      'select status, access_token_sealed from token.credential where connection_id = $1',
      [c.connectionId],
    );
    assert.deepEqual(row, { status: 'disconnected', access_token_sealed: null });
  });

  it('reports a failed revoke without changing the connection, and counts it by status', async () => {
    const c = await connectAndStore(env.sim, a.client);
    env.sim.control.addFault({ kind: '503', endpoint: 'revoke', times: 1 });
    const answer = await a.client.revoke(c.connectionId);
    assert.deepEqual(answer, { connectionId: c.connectionId, revokedAtIntuit: false });
    assert.equal(metrics.counts.get('revoke:503'), 1);
    assert.equal((await a.client.status(c.connectionId)).status, 'active');
    assert.equal((await a.client.getAccessToken(c.connectionId)).accessToken, c.accessToken);
  });

  it('answers 413 payload_too_large for a body over 64 KiB, announced or streamed', async () => {
    const url = `${a.url}/internal/connections/c-big/credentials`;
    const headers = {
      authorization: `Bearer ${CALLER_CREDENTIALS['auth-service']}`,
      'content-type': 'application/json',
    };
    const big = JSON.stringify({ orgId: 'o', refreshToken: 'x'.repeat(65 * 1024) });
    const announced = await fetch(url, { method: 'PUT', headers, body: big });
    assert.equal(announced.status, 413);
    assert.equal(announced.headers.get('content-type'), 'application/problem+json');
    assert.match(await announced.text(), /"code":"payload_too_large"/);

    // No Content-Length: the limit holds while the body streams in.
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const streamed = await fetch(url, {
      method: 'PUT',
      headers,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.match(await streamed.text(), /"code":"payload_too_large"/);

    // Unauthenticated callers are turned away before any body is read.
    const stranger = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    assert.equal(stranger.status, 401);
  });
});
