import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConnectionDisconnected, createEventFactory } from '@qbo/events';
import type { Simulator } from '@qbo/qbo-simulator';
import { attack, type ServiceProcess } from '@qbo/testkit';
import { createTokenServiceClient, type TokenApiCaller, TokenServiceError } from '@qbo/token-api';
import {
  type Connected,
  connectAndStore,
  connectionsProducer,
  createEnv,
  type Env,
  key,
  serviceEnv,
  startChild,
  tokenCalls,
  waitFor,
} from './testing/harness.js';

/** Each caller's own credential at the service under attack. */
const CREDENTIALS: Record<TokenApiCaller, string> = {
  'auth-service': 'attack-auth-service-credential-01',
  'sync-service': 'attack-sync-service-credential-01',
  operator: 'attack-operator-credential-000001',
};

/** auth-service's next credential, accepted beside the current one while it rotates. */
const ROTATED_AUTH_CREDENTIAL = 'attack-auth-service-credential-02';

const revokeCalls = (sim: Simulator) =>
  Object.values(sim.control.counters()).reduce((sum, e) => sum + (e.revoke?.calls ?? 0), 0);

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/**
 * What a thief of one service's credential, or of a place on the connections topic, can make the token-service
 * do, tried from outside only: HTTP with that credential, events on the topic, the simulator as Intuit.
 */
describe('token-service least privilege (attacks on the running service)', () => {
  let env: Env;
  let proc: ServiceProcess;
  const as = (caller: TokenApiCaller) =>
    createTokenServiceClient({ baseUrl: proc.url, credential: () => CREDENTIALS[caller], timeoutMs: 30_000 });
  const connect = (realmId?: string) => connectAndStore(env.sim, as('auth-service'), realmId);
  const row = async (connectionId: string) =>
    (
      await env.db.query<{ status: string; sealed_key: string | null }>(
        `select c.status, d.sealed_key from token.credential c left join token.data_key d using (connection_id)
         where c.connection_id = $1`,
        [connectionId],
      )
    )[0];

  before(async () => {
    env = await createEnv('token_least_privilege');
    proc = await startChild(
      serviceEnv(env, {
        TOKEN_KEYS: `k1:${key()}`,
        TOKEN_ACTIVE_KEY_ID: 'k1',
        TOKEN_API_CALLERS: Object.entries(CREDENTIALS)
          .map(([caller, secret]) =>
            caller === 'auth-service'
              ? `${caller}=${secret},${ROTATED_AUTH_CREDENTIAL}`
              : `${caller}=${secret}`,
          )
          .join(';'),
        TOKEN_FORCED_REFRESH_INTERVAL_MS: '60000',
        SCHEDULER_INTERVAL_MS: '3600000',
      }),
    );
  });
  after(async () => {
    await proc?.stop();
    await env?.close();
  });

  it("accepts each of a caller's secrets during its rotation, for that caller's operations only", async () => {
    const rotated = createTokenServiceClient({
      baseUrl: proc.url,
      credential: () => ROTATED_AUTH_CREDENTIAL,
    });
    const c = await connectAndStore(env.sim, rotated);
    assert.equal((await row(c.connectionId))?.status, 'active', 'stored with the new secret');
    const res = await fetch(`${proc.url}/internal/connections/${c.connectionId}/access-token`, {
      headers: { authorization: `Bearer ${ROTATED_AUTH_CREDENTIAL}` },
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const body = await res.text();
    assert.match(body, /"code":"caller_not_permitted"/);
    assert.ok(!body.includes(c.accessToken));
    assert.equal(
      (await as('auth-service').revoke(c.connectionId)).revokedAtIntuit,
      true,
      'the old one works',
    );
  });

  attack("auth-service's credential reads another org's live access token", async () => {
    const victim = await connect();
    const err = await failure(as('auth-service').getAccessToken(victim.connectionId));
    assert.ok(err instanceof TokenServiceError, 'the token was handed out');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.code, 'caller_not_permitted');
  });

  attack("auth-service's credential makes the token-service refresh at Intuit", async () => {
    const victim = await connect();
    const calls = tokenCalls(env.sim);
    const err = await failure(
      as('auth-service').refreshAfterRejection(victim.connectionId, victim.accessToken),
    );
    assert.ok(err instanceof TokenServiceError, 'a refresh was forced');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.code, 'caller_not_permitted');
    assert.equal(tokenCalls(env.sim), calls, "no call reached Intuit's token endpoint");
  });

  attack("sync-service's credential plants a grant under a new connection id for any org", async () => {
    const grant = await connect();
    const planted = randomUUID();
    const err = await failure(
      as('sync-service').storeCredentials(planted, {
        orgId: 'org-of-someone-else',
        realmId: grant.realmId,
        environment: 'sandbox',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        refreshTokenExpiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        scopes: ['com.intuit.quickbooks.accounting'],
      }),
    );
    assert.ok(err instanceof TokenServiceError, 'the grant was stored');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.code, 'caller_not_permitted');
    assert.equal(await row(planted), undefined, 'no credential row under the planted id');
  });

  attack("sync-service's credential revokes a connection, silently", async () => {
    const victim = await connect();
    const revokes = revokeCalls(env.sim);
    const err = await failure(as('sync-service').revoke(victim.connectionId));
    assert.ok(err instanceof TokenServiceError, 'the connection was revoked');
    assert.equal(err.httpStatus, 403);
    assert.equal(err.code, 'caller_not_permitted');
    assert.equal(revokeCalls(env.sim), revokes, 'nothing revoked at Intuit');
    assert.equal((await row(victim.connectionId))?.status, 'active');
  });

  attack('compare-and-refresh hammered with the current token refreshes at Intuit each time', async () => {
    const victim = await connect();
    const sync = as('sync-service');
    const calls = tokenCalls(env.sim);
    let current = victim.accessToken;
    const answers: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const answer = await sync
        .refreshAfterRejection(victim.connectionId, current)
        .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      answers.push(answer);
      if (!(answer instanceof Error)) current = answer.accessToken;
    }
    assert.ok(tokenCalls(env.sim) - calls <= 1, `${tokenCalls(env.sim) - calls} refreshes at Intuit`);
    const throttled = answers.filter((a) => a instanceof TokenServiceError && a.code === 'refresh_throttled');
    assert.equal(throttled.length, 9, 'every call after the first is told to come back later');
    assert.ok(throttled.every((a) => (a as TokenServiceError).retryAfterMs !== undefined));
  });

  const forgeDisconnect = async (victim: Connected, claim: { orgId: string; realmId: string }) => {
    const event = createEventFactory({ source: 'auth-service' })(ConnectionDisconnected, {
      orgId: claim.orgId,
      realmId: claim.realmId,
      data: {
        connectionId: victim.connectionId,
        realmId: claim.realmId,
        reason: 'user_requested',
        revokedAtIntuit: false,
        disconnectedAt: new Date().toISOString(),
      },
    });
    const producer = await connectionsProducer(env.bus);
    try {
      await producer.publish(event);
    } finally {
      await producer.disconnect();
    }
    // Counted at the inbox: the service has consumed the forged event before anything is checked.
    await waitFor(
      async () =>
        (await env.db.query('select 1 from token.inbox where event_id = $1', [event.id])).length > 0,
      { timeoutMs: 30_000, what: 'the forged event consumed' },
    );
  };

  attack("a forged ConnectionDisconnected of another org shreds that org's connection", async () => {
    const victim = await connect();
    const revokes = revokeCalls(env.sim);
    await forgeDisconnect(victim, { orgId: 'org-of-the-forger', realmId: victim.realmId });
    const after = await row(victim.connectionId);
    assert.equal(after?.status, 'active', 'the connection was disconnected');
    assert.ok(after?.sealed_key, 'the data key was shredded');
    assert.equal(revokeCalls(env.sim), revokes, 'the grant was revoked at Intuit');
  });

  attack(
    "a forged ConnectionDisconnected naming the connection's org but another realm shreds it",
    async () => {
      const victim = await connect();
      const other = env.sim.control.companies().find((c) => c.realmId !== victim.realmId)?.realmId;
      assert.ok(other);
      const revokes = revokeCalls(env.sim);
      await forgeDisconnect(victim, { orgId: victim.orgId, realmId: other });
      const after = await row(victim.connectionId);
      assert.equal(after?.status, 'active', 'the connection was disconnected');
      assert.ok(after?.sealed_key, 'the data key was shredded');
      assert.equal(revokeCalls(env.sim), revokes, 'the grant was revoked at Intuit');
    },
  );

  for (const fault of ['invalid_client', 'invalid_request'] as const) {
    attack(
      `a single ${fault} from Intuit on one refresh pauses refreshing for every connection`,
      async () => {
        const [r1, r2] = env.sim.control.companies().map((c) => c.realmId);
        if (!r1 || !r2) throw new Error('the simulator seeds two companies');
        const hit = await connect(r1);
        const other = await connect(r2);
        const sync = as('sync-service');
        env.sim.control.addFault({ kind: fault, endpoint: 'token', realmId: r1, times: 1 });
        await sync.refreshAfterRejection(hit.connectionId, hit.accessToken).catch(() => undefined);
        const calls = tokenCalls(env.sim);
        const refreshed = await sync
          .refreshAfterRejection(other.connectionId, other.accessToken)
          .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
        assert.ok(
          !(refreshed instanceof Error),
          `another connection's refresh failed: ${refreshed instanceof TokenServiceError ? refreshed.code : String(refreshed)}`,
        );
        assert.notEqual(refreshed.accessToken, other.accessToken);
        assert.equal(tokenCalls(env.sim) - calls, 1, 'the other connection was refreshed at Intuit');
        const paused = await env.db.query('select 1 from token.app_pause');
        assert.equal(paused.length, 0, 'the app is not paused');
      },
    );
  }
});
