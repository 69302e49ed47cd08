import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBus } from '@qbo/event-bus/testing';
import { createSimulator, type Simulator, type TokenPolicy } from '@qbo/qbo-simulator';
import type { ServiceProcess } from '@qbo/testkit';
import { TokenServiceError } from '@qbo/token-api';
import {
  type Collector,
  clientFor,
  collectTokenEvents,
  connectAndStore,
  createBus,
  createEnv,
  type Env,
  key,
  serviceEnv,
  startChild,
  tokenCalls,
  waitFor,
} from './testing/harness.js';

const DAY = 86_400_000;

/**
 * The real service as a child process, killed (exit 137) at a named point of a refresh, then restarted
 * without the hook. Intuit returns the same refresh token for ~24 h and then a new one; whether the old one
 * still works after a rotation is Intuit's grace policy (0 = strict, 24 h = intuit-oauth's README).
 */
describe('crash at every step of a refresh (child processes, simulator, real Kafka)', () => {
  let env: Env;
  let events: Collector;
  let bus: TestBus;
  const collectors: Collector[] = [];
  const keys = { TOKEN_KEYS: `k1:${key()}`, TOKEN_ACTIVE_KEY_ID: 'k1' };
  const sims: Simulator[] = [];
  const procs: ServiceProcess[] = [];

  /**
   * Each case gets its own topics (and so its own consumer group): a new process would otherwise wait out the
   * killed one's group session before it can leave the group again.
   */
  const simulator = async (rotatedGraceSeconds: number, policy: Partial<TokenPolicy> = {}) => {
    bus = await createBus();
    events = await collectTokenEvents(bus);
    collectors.push(events);
    const sim = await createSimulator({
      consent: 'auto',
      seed: { seed: 5, companies: 1, records: 0 },
      tokens: { rotatedGraceSeconds, ...policy },
    });
    sims.push(sim);
    return sim;
  };
  const start = async (sim: Simulator, crashAt?: string) => {
    const proc = await startChild(
      serviceEnv(
        { ...env, sim, bus },
        { ...keys, ...(crashAt ? { NODE_ENV: 'test', TOKEN_TEST_CRASH_AT: crashAt } : {}) },
      ),
    );
    procs.push(proc);
    return proc;
  };
  /** Asks for a refresh and expects the process to die at its crash point. */
  const crashDuringRefresh = async (proc: ServiceProcess, connectionId: string, rejected: string) => {
    const err = await clientFor(proc.url)
      .refreshAfterRejection(connectionId, rejected)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof TokenServiceError, 'the caller got no token from the dying process');
    assert.equal(await proc.exited, 137);
  };

  before(async () => {
    env = await createEnv('token_crash');
  });
  after(async () => {
    for (const c of collectors) await c.stop();
    for (const p of procs) await p.stop();
    for (const s of sims) await s.close();
    await env?.close();
  });

  it('dies between Intuit answer and the write (same refresh token): the stored token still works', async () => {
    const sim = await simulator(0);
    const first = await start(sim, 'after_intuit_answer');
    const c = await connectAndStore(sim, clientFor(first.url));
    await crashDuringRefresh(first, c.connectionId, c.accessToken);
    assert.equal(tokenCalls(sim), 2, 'the code exchange and the refresh Intuit answered');

    const second = await start(sim);
    const client = clientFor(second.url);
    assert.equal((await client.status(c.connectionId)).credentialVersion, 1, 'nothing was written');
    const renewed = await client.refreshAfterRejection(c.connectionId, c.accessToken);
    assert.equal(renewed.credentialVersion, 2);
    const again = await client.refreshAfterRejection(c.connectionId, renewed.accessToken);
    assert.equal(again.credentialVersion, 3, 'the connection keeps refreshing');
    await second.stop('SIGKILL'); // a graceful stop would first wait out the killed process's group session
  });

  it('dies between Intuit answer and the write after a rotation (24 h grace): the old token still works', async () => {
    const sim = await simulator(86_400);
    const first = await start(sim, 'after_intuit_answer');
    const c = await connectAndStore(sim, clientFor(first.url));
    sim.control.clock.advance(DAY + 60_000); // Intuit now rotates the refresh token on the next refresh
    await crashDuringRefresh(first, c.connectionId, c.accessToken);

    const second = await start(sim);
    const client = clientFor(second.url);
    const renewed = await client.refreshAfterRejection(c.connectionId, c.accessToken);
    assert.equal(renewed.credentialVersion, 2);
    sim.control.clock.advance(DAY + 60_000);
    const again = await client.refreshAfterRejection(c.connectionId, renewed.accessToken);
    assert.equal(again.credentialVersion, 3);
    assert.equal((await client.status(c.connectionId)).status, 'active');
    await second.stop('SIGKILL'); // a graceful stop would first wait out the killed process's group session
  });

  it('dies between the write and the event: nothing is lost, the event is published after restart', async () => {
    const sim = await simulator(0);
    const first = await start(sim, 'after_commit');
    const c = await connectAndStore(sim, clientFor(first.url));
    sim.control.clock.advance(DAY + 60_000); // a rotation: only the committed new value works from now on
    await crashDuringRefresh(first, c.connectionId, c.accessToken);
    const calls = tokenCalls(sim);

    const second = await start(sim);
    const client = clientFor(second.url);
    const served = await client.getAccessToken(c.connectionId);
    assert.equal(served.credentialVersion, 2, 'the committed refresh survived the crash');
    assert.equal(tokenCalls(sim), calls, 'served from the vault, no second refresh');
    await waitFor(
      () =>
        events
          .of('TokenRotated', c.connectionId)
          .find((e) => e.data.credentialVersion === 2 && e.data.refreshTokenRotated),
      { timeoutMs: 20_000, what: 'TokenRotated v2 relayed after the restart' },
    );
    sim.control.clock.advance(DAY + 60_000);
    const again = await client.refreshAfterRejection(c.connectionId, served.accessToken);
    assert.equal(again.credentialVersion, 3, 'the rotated refresh token that was committed works');
    await second.stop('SIGKILL'); // a graceful stop would first wait out the killed process's group session
  });

  it('falls back once to the last-known-good refresh token when Intuit refuses the new one', async () => {
    const sim = await simulator(86_400);
    const proc = await start(sim);
    const client = clientFor(proc.url);
    const c = await connectAndStore(sim, client);
    sim.control.clock.advance(DAY + 60_000);
    const rotated = await client.refreshAfterRejection(c.connectionId, c.accessToken);
    sim.control.addFault({ kind: 'invalid_grant', endpoint: 'token', times: 1 });
    const calls = tokenCalls(sim);
    const rescued = await client.refreshAfterRejection(c.connectionId, rotated.accessToken);
    assert.equal(tokenCalls(sim) - calls, 2, 'the current token, then the last-known-good one');
    assert.equal(rescued.credentialVersion, 3);
    assert.equal((await client.status(c.connectionId)).status, 'active');
    assert.equal(events.of('ConnectionDeactivated', c.connectionId).length, 0);
    await proc.stop();
  });

  it('shows the limit: strict rotation and a crash before the write lose the grant, reported once', async () => {
    const sim = await simulator(0);
    const first = await start(sim, 'after_intuit_answer');
    const c = await connectAndStore(sim, clientFor(first.url));
    sim.control.clock.advance(DAY + 60_000);
    await crashDuringRefresh(first, c.connectionId, c.accessToken);

    // Intuit replaced the value the dead process never stored, and (strict) refuses the old one: nobody can
    // recover this; the service says so once instead of retrying forever.
    const second = await start(sim);
    const client = clientFor(second.url);
    const err = await client.refreshAfterRejection(c.connectionId, c.accessToken).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof TokenServiceError);
    assert.equal(err.code, 'reauthorization_required');
    await waitFor(() => events.of('ConnectionDeactivated', c.connectionId).length === 1, {
      timeoutMs: 20_000,
      what: 'one ConnectionDeactivated',
    });
    await second.stop('SIGKILL'); // a graceful stop would first wait out the killed process's group session
  });

  it('warns once that the grant nears its hard expiry, as Intuit reports it', async () => {
    const sim = await simulator(0, { hardExpirySeconds: 20 * 86_400 });
    const proc = await start(sim);
    const client = clientFor(proc.url);
    const c = await connectAndStore(sim, client);
    const renewed = await client.refreshAfterRejection(c.connectionId, c.accessToken);
    await client.refreshAfterRejection(c.connectionId, renewed.accessToken);
    await waitFor(() => events.of('TokenRotated', c.connectionId).length === 2, { what: 'two TokenRotated' });
    const soon = events.of('ReconnectSoon', c.connectionId);
    assert.equal(soon.length, 1, 'once, not at every refresh');
    assert.equal(soon[0]?.data.daysLeft, 19);
    const rotated = events.of('TokenRotated', c.connectionId)[0];
    assert.ok(
      Date.parse(String(rotated?.data.refreshTokenExpiresAt)) <= Date.now() + 20 * DAY,
      'the refresh token expiry reported is capped by the hard expiry',
    );
    await proc.stop('SIGKILL');
  });

  it('never writes a token to its logs', () => {
    const output = procs.map((p) => p.output()).join('\n');
    assert.ok(output.length > 0);
    assert.doesNotMatch(
      output,
      /eyJlbmMiOiJBMTI4Q0JDLUhTMjU2|AB11\d{10}/,
      'no access or refresh token in any log line',
    );
  });
});
