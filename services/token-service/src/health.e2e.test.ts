import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenServiceError } from '@qbo/token-api';
import {
  type Collector,
  type Connected,
  collectTokenEvents,
  connectAndStore,
  createEnv,
  type Env,
  type InProcessService,
  key,
  serviceEnv,
  startInProcess,
  tokenCalls,
  waitFor,
} from './testing/harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const failure = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );

/**
 * The service runs on the simulator's virtual clock with its production backoff (30 s doubling to 15 min),
 * and the test drives the scheduler pass by pass: a 30-minute outage takes seconds, and nothing depends on
 * real timers.
 */
describe('refresh health (virtual clock, simulator faults, real Kafka)', () => {
  let env: Env;
  let svc: InProcessService;
  let healthy: Connected;
  let revoked: Connected;
  let events: Collector;
  const keys = { TOKEN_KEYS: `k1:${key()}`, TOKEN_ACTIVE_KEY_ID: 'k1' };
  const now = () => env.sim.control.clock.now();
  const stepMinutes = async (minutes: number) => {
    for (let i = 0; i < minutes; i++) {
      env.sim.control.clock.advance(MINUTE);
      await svc.scheduler.tick();
    }
  };

  before(async () => {
    env = await createEnv('token_health', { clock: { start: '2026-11-25T12:00:00Z', frozen: true } });
    svc = await startInProcess(
      serviceEnv(env, {
        ...keys,
        SCHEDULER_INTERVAL_MS: String(HOUR),
        QBO_TOKEN_TIMEOUT_MS: '500',
      }),
      { now },
    );
    const [first, second] = env.sim.control.companies().map((c) => c.realmId);
    healthy = await connectAndStore(env.sim, svc.client, first);
    revoked = await connectAndStore(env.sim, svc.client, second);
    events = await collectTokenEvents(env.bus);
  });
  after(async () => {
    await events?.stop();
    await svc?.stop();
    await env?.close();
  });

  it('rides out a 30-minute Intuit outage: degraded once, recovered once, never deactivated', async () => {
    env.sim.control.clock.advance(HOUR); // both access tokens expire; the scheduler finds them due
    const fault = env.sim.control.addFault({ kind: '503', endpoint: 'token', realmId: healthy.realmId });
    const before = tokenCalls(env.sim);
    await stepMinutes(30);
    const attempts = tokenCalls(env.sim) - before;
    // Backoff 30 s, 1 min, 2 min, 4 min, 8 min … (jittered): a handful of attempts, not one per pass.
    assert.ok(attempts >= 4 && attempts <= 8, `attempts during the outage: ${attempts}`);

    const status = await svc.client.status(healthy.connectionId);
    assert.equal(status.status, 'degraded');
    assert.ok(status.degradedSince);
    const during = await failure(svc.client.getAccessToken(healthy.connectionId));
    assert.ok(during instanceof TokenServiceError);
    assert.equal(during.code, 'refresh_unavailable');
    assert.equal(during.httpStatus, 503);
    assert.ok((during.retryAfterMs ?? 0) > 0, 'Retry-After tells the caller when to come back');

    env.sim.control.removeFault(fault.id);
    await stepMinutes(16); // past the longest backoff (15 min cap)
    assert.equal((await svc.client.status(healthy.connectionId)).status, 'active');
    const token = await svc.client.getAccessToken(healthy.connectionId);
    assert.ok(token.credentialVersion >= 2);
  });

  it('treats a dropped connection and a slow Intuit as transient too', async () => {
    const c = await connectAndStore(env.sim, svc.client, healthy.realmId);
    const lastError = async () =>
      (
        await env.db.query<{ last_error_code: string; status: string }>(
          'select last_error_code, status from token.credential where connection_id = $1',
          [c.connectionId],
        )
      )[0];
    env.sim.control.addFault({ kind: 'drop', endpoint: 'token', times: 1 });
    const dropped = await failure(svc.client.refreshAfterRejection(c.connectionId, c.accessToken));
    assert.ok(dropped instanceof TokenServiceError);
    assert.equal(dropped.code, 'refresh_unavailable');
    assert.deepEqual(await lastError(), { last_error_code: 'network', status: 'degraded' });

    env.sim.control.clock.advance(2 * MINUTE); // past the first backoff
    env.sim.control.addFault({ kind: 'latency', latencyMs: 1500, endpoint: 'token', times: 1 });
    const slow = await failure(svc.client.refreshAfterRejection(c.connectionId, c.accessToken));
    assert.ok(slow instanceof TokenServiceError);
    assert.equal(slow.code, 'refresh_unavailable');
    assert.deepEqual(await lastError(), { last_error_code: 'timeout', status: 'degraded' });

    env.sim.control.clock.advance(5 * MINUTE);
    const renewed = await svc.client.refreshAfterRejection(c.connectionId, c.accessToken);
    assert.equal(renewed.credentialVersion, 2);
    await waitFor(() => events.of('ConnectionRecovered', c.connectionId).length === 1, { what: 'recovered' });
    const degraded = events.of('ConnectionDegraded', c.connectionId);
    assert.equal(degraded.length, 1);
    assert.equal(degraded[0]?.data.cause, 'network');
    assert.equal(events.of('ConnectionRecovered', c.connectionId)[0]?.data.attempts, 2);
  });

  it('deactivates a revoked grant once, asks for reauthorisation, and stops calling Intuit', async () => {
    env.sim.control.revokeRealm(revoked.realmId);
    env.sim.control.clock.advance(2 * HOUR);
    await svc.scheduler.tick();
    const status = await svc.client.status(revoked.connectionId);
    assert.equal(status.status, 'deactivated');
    assert.equal(status.deactivationReason, 'invalid_grant');
    const refused = await failure(svc.client.getAccessToken(revoked.connectionId));
    assert.ok(refused instanceof TokenServiceError);
    assert.equal(refused.code, 'reauthorization_required');
    assert.equal(refused.httpStatus, 409);

    const calls = env.sim.control.counters()[revoked.realmId]?.token?.calls ?? 0;
    await stepMinutes(5);
    env.sim.control.clock.advance(10 * 24 * HOUR);
    await svc.scheduler.tick();
    assert.equal(env.sim.control.counters()[revoked.realmId]?.token?.calls ?? 0, calls, 'no attempt after');

    await waitFor(() => events.of('ReauthorizationRequired', revoked.connectionId).length > 0, {
      what: 'ReauthorizationRequired on the topic',
    });
    await waitFor(() => events.of('ConnectionRecovered', healthy.connectionId).length > 0, {
      what: 'ConnectionRecovered on the topic',
    });
    const count = (type: string, id: string) => events.of(type, id).length;
    assert.equal(count('ConnectionDegraded', healthy.connectionId), 1);
    assert.equal(count('ConnectionRecovered', healthy.connectionId), 1);
    assert.equal(count('ConnectionDeactivated', healthy.connectionId), 0, 'an outage never deactivates');
    assert.equal(count('ConnectionDeactivated', revoked.connectionId), 1);
    assert.equal(count('ReauthorizationRequired', revoked.connectionId), 1);
    const all = events.events;
    const deactivated = all.find((e) => e.type === 'ConnectionDeactivated');
    assert.equal(deactivated?.data.reason, 'invalid_grant');
    assert.equal(deactivated?.data.lastErrorCode, 'invalid_grant');
    const degraded = all.find((e) => e.type === 'ConnectionDegraded');
    assert.equal(degraded?.data.lastErrorCode, '503');
    assert.ok(all.some((e) => e.type === 'TokenRotated' && e.data.connectionId === healthy.connectionId));

    // Reconnecting stores a new grant for the same connection: active again, tokens served.
    const again = await connectAndStore(env.sim, svc.client, revoked.realmId, revoked);
    assert.equal((await svc.client.status(revoked.connectionId)).status, 'active');
    assert.equal((await svc.client.getAccessToken(revoked.connectionId)).accessToken, again.accessToken);
  });

  it('pauses refreshing for rejected app credentials without deactivating anyone', async () => {
    // A replica deployed with a wrong client secret, sharing the vault and its key ring.
    const wrong = await startInProcess(
      serviceEnv(env, {
        ...keys,
        QBO_CLIENT_SECRET: 'a-wrong-client-secret',
        SCHEDULER_INTERVAL_MS: String(HOUR),
        // Between probes (none due in this test), a paused app calls Intuit for nothing.
        TOKEN_APP_PAUSE_PROBE_INTERVAL_MS: String(24 * HOUR),
      }),
      { now },
    );
    try {
      const current = await svc.client.getAccessToken(healthy.connectionId);
      const refused = await failure(
        wrong.client.refreshAfterRejection(healthy.connectionId, current.accessToken),
      );
      assert.ok(refused instanceof TokenServiceError);
      assert.equal(refused.code, 'app_credentials_rejected');
      assert.equal(refused.httpStatus, 503);
      assert.equal(
        (await svc.client.status(healthy.connectionId)).status,
        'active',
        'the customer is not blamed',
      );

      // The wrong replica's scheduler stays still however much is due; the right credentials are not paused.
      env.sim.control.clock.advance(3 * HOUR);
      const calls = tokenCalls(env.sim);
      assert.equal(await wrong.scheduler.tick(), 0);
      assert.equal(tokenCalls(env.sim), calls, 'a paused app makes no calls');
      const refreshed = await svc.client.getAccessToken(healthy.connectionId);
      assert.notEqual(refreshed.accessToken, current.accessToken);
      await waitFor(() => events.of('AppCredentialsRejected', healthy.connectionId).length === 1, {
        what: 'one AppCredentialsRejected',
      });
      assert.equal(events.of('AppCredentialsRejected')[0]?.data.schedulerPaused, true);
      assert.equal(events.of('ConnectionDeactivated', healthy.connectionId).length, 0);
    } finally {
      await wrong.stop();
    }
  });
  it('reports rejected app credentials once however many flights hit them at the same time', async () => {
    const wrong = await startInProcess(
      serviceEnv(env, {
        ...keys,
        QBO_CLIENT_SECRET: 'yet-another-wrong-secret',
        SCHEDULER_INTERVAL_MS: String(HOUR),
        TOKEN_APP_PAUSE_PROBE_INTERVAL_MS: String(24 * HOUR),
      }),
      { now },
    );
    const connected: Connected[] = [];
    for (let i = 0; i < 6; i++) connected.push(await connectAndStore(env.sim, svc.client));
    // Added after the connects, whose code exchanges use the same endpoint: each refresh now waits long enough
    // that every flight has passed the pause check before the first one pauses.
    const slow = env.sim.control.addFault({ kind: 'latency', endpoint: 'token', latencyMs: 300 });
    try {
      const countRejected = async () =>
        Number(
          (
            await env.db.query<{ n: string }>(
              "select count(*) as n from token.outbox where type = 'AppCredentialsRejected'",
            )
          )[0]?.n,
        );
      const before = await countRejected();
      const calls = tokenCalls(env.sim);
      const answers = await Promise.all(
        connected.map((c) => failure(wrong.client.refreshAfterRejection(c.connectionId, c.accessToken))),
      );
      for (const a of answers) {
        assert.ok(a instanceof TokenServiceError);
        assert.equal(a.code, 'app_credentials_rejected');
      }
      assert.ok(tokenCalls(env.sim) - calls >= 2, 'several flights reached Intuit before the pause');
      assert.equal((await countRejected()) - before, 1, 'one AppCredentialsRejected for the app');
    } finally {
      env.sim.control.removeFault(slow.id);
      await wrong.stop();
    }
  });

  it('pauses only on a confirmed invalid_client, probes the paused app, and resumes by itself', async () => {
    const c = await connectAndStore(env.sim, svc.client);
    // Pauses of the wrong secrets tried above stay theirs; this one is the running service's own.
    const others = (await env.db.query('select 1 from token.app_pause')).length;
    const pauses = async () => (await env.db.query('select 1 from token.app_pause')).length - others;

    // One invalid_client is asked again at once; the second answer decides.
    env.sim.control.addFault({ kind: 'invalid_client', endpoint: 'token', times: 1 });
    let calls = tokenCalls(env.sim);
    const renewed = await svc.client.refreshAfterRejection(c.connectionId, c.accessToken);
    assert.equal(renewed.credentialVersion, 2);
    assert.equal(tokenCalls(env.sim) - calls, 2, 'the refused call and the one that confirmed nothing');
    assert.equal(await pauses(), 0);

    env.sim.control.clock.advance(MINUTE);
    env.sim.control.addFault({ kind: 'invalid_client', endpoint: 'token', times: 2 });
    const refused = await failure(svc.client.refreshAfterRejection(c.connectionId, renewed.accessToken));
    assert.ok(refused instanceof TokenServiceError);
    assert.equal(refused.code, 'app_credentials_rejected');
    assert.equal(await pauses(), 1, 'confirmed: paused');
    await waitFor(() => events.of('AppCredentialsRejected', c.connectionId).length === 1, {
      what: 'AppCredentialsRejected for the confirmed pause',
    });

    // Before the probe interval nothing is called; after it, one probe finds Intuit accepting the app again.
    env.sim.control.clock.advance(MINUTE);
    calls = tokenCalls(env.sim);
    await svc.scheduler.tick();
    assert.equal(tokenCalls(env.sim), calls, 'a paused app waits for its probe');
    assert.equal(await pauses(), 1);
    env.sim.control.clock.advance(5 * MINUTE);
    await svc.scheduler.tick();
    assert.ok(tokenCalls(env.sim) > calls, 'the probe called Intuit');
    assert.equal(await pauses(), 0, 'the probe lifted the pause');
    const after = await svc.client.refreshAfterRejection(c.connectionId, renewed.accessToken);
    assert.ok(after.credentialVersion > renewed.credentialVersion, 'callers are refreshed again');
  });
});
