import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '@qbo/qbo-simulator';
import {
  type Collector,
  collectTokenEvents,
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
  waitFor,
} from './testing/harness.js';

const revokeCalls = (sim: Simulator) =>
  Object.values(sim.control.counters()).reduce((sum, e) => sum + (e.revoke?.calls ?? 0), 0);

/** Revocations through the API and through disconnects: what they announce, and what a failed revoke leaves. */
describe('revocation (real Postgres and Kafka, simulator as Intuit)', () => {
  let env: Env;
  let svc: InProcessService;
  let events: Collector;
  const metrics = recordingMetrics();
  const row = async (connectionId: string) =>
    (
      await env.db.query<{
        status: string;
        sealed_key: string | null;
        access_token_sealed: string | null;
        refresh_token_sealed: string | null;
        revoke_attempts: number;
        next_revoke_at: Date | null;
      }>(
        `select c.status, d.sealed_key, c.access_token_sealed, c.refresh_token_sealed, c.revoke_attempts,
           c.next_revoke_at
         from token.credential c left join token.data_key d using (connection_id) where c.connection_id = $1`,
        [connectionId],
      )
    )[0];

  before(async () => {
    env = await createEnv('token_revocation');
    svc = await startInProcess(
      serviceEnv(env, {
        TOKEN_KEYS: `k1:${key()}`,
        TOKEN_ACTIVE_KEY_ID: 'k1',
        SCHEDULER_INTERVAL_MS: '100',
        TOKEN_SHRED_REVOKE_RETRY_MS: '300',
        TOKEN_SHRED_REVOKE_MAX_ATTEMPTS: '3',
      }),
      { metrics },
    );
    events = await collectTokenEvents(env.bus);
  });
  after(async () => {
    await events?.stop();
    await svc?.stop();
    await env?.close();
  });

  it('announces a revoke through the API as a revoked grant: ConnectionDeactivated and ReauthorizationRequired', async () => {
    const c = await connectAndStore(env.sim, svc.client);
    assert.equal((await svc.client.revoke(c.connectionId)).revokedAtIntuit, true);
    await waitFor(() => events.of('ReauthorizationRequired', c.connectionId).length === 1, {
      what: 'ReauthorizationRequired on the topic',
    });
    const [deactivated] = events.of('ConnectionDeactivated', c.connectionId);
    assert.equal(deactivated?.data.reason, 'revoked');
    assert.equal(deactivated?.data.lastErrorCode, 'revoked_on_request');
    assert.equal(events.of('ReauthorizationRequired', c.connectionId)[0]?.data.reason, 'revoked');
    // A repeated revoke announces nothing new.
    await svc.client.revoke(c.connectionId);
    const outbox = await env.db.query(
      "select 1 from token.outbox where type = 'ConnectionDeactivated' and payload::text like $1",
      [`%${c.connectionId}%`],
    );
    assert.equal(outbox.length, 1);
  });

  it('announces nothing when Intuit did not confirm the revoke', async () => {
    const c = await connectAndStore(env.sim, svc.client);
    const fault = env.sim.control.addFault({ kind: '503', endpoint: 'revoke', times: 1 });
    try {
      assert.equal((await svc.client.revoke(c.connectionId)).revokedAtIntuit, false);
    } finally {
      env.sim.control.removeFault(fault.id);
    }
    const outbox = await env.db.query('select 1 from token.outbox where payload::text like $1', [
      `%${c.connectionId}%`,
    ]);
    assert.equal(outbox.length, 0);
    assert.equal((await row(c.connectionId))?.status, 'active');
  });

  it('keeps only the refresh token when a disconnect cannot revoke, retries, and shreds once Intuit confirms', async () => {
    const c = await connectAndStore(env.sim, svc.client);
    const revokes = revokeCalls(env.sim);
    const fault = env.sim.control.addFault({ kind: '503', endpoint: 'revoke', times: 1 });
    const producer = await connectionsProducer(env.bus);
    try {
      await publishDisconnect(producer, c, false);
    } finally {
      await producer.disconnect();
    }
    const pending = await waitFor(
      async () => {
        const r = await row(c.connectionId);
        return r?.revoke_attempts === 1 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the shred deferred' },
    );
    assert.equal(pending.status, 'disconnected');
    assert.equal(pending.access_token_sealed, null, 'the access token is gone at once');
    assert.ok(pending.refresh_token_sealed && pending.sealed_key, 'the refresh token is kept to revoke with');
    env.sim.control.removeFault(fault.id);

    const done = await waitFor(
      async () => {
        const r = await row(c.connectionId);
        return r && r.sealed_key === null ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the shred completed after a retried revoke' },
    );
    assert.equal(done.refresh_token_sealed, null);
    assert.equal(done.next_revoke_at, null);
    assert.equal(revokeCalls(env.sim) - revokes, 2, 'the failed revoke, then the retry Intuit confirmed');
    assert.equal(metrics.counts.get('shred_revoke:deferred'), 1);
    assert.equal(metrics.counts.get('shred_revoke:revoked'), 1);
    // Intuit no longer honours the grant.
    assert.equal(await refreshStatusAtIntuit(env.sim, c.refreshToken), 400);
  });

  it('gives up after the configured attempts, shreds anyway and reports it', async () => {
    const c = await connectAndStore(env.sim, svc.client);
    const revokes = revokeCalls(env.sim);
    const fault = env.sim.control.addFault({ kind: '503', endpoint: 'revoke' });
    try {
      const producer = await connectionsProducer(env.bus);
      try {
        await publishDisconnect(producer, c, false);
      } finally {
        await producer.disconnect();
      }
      await waitFor(async () => (await row(c.connectionId))?.sealed_key === null, {
        timeoutMs: 30_000,
        what: 'the shred given up and completed',
      });
    } finally {
      env.sim.control.removeFault(fault.id);
    }
    assert.equal(revokeCalls(env.sim) - revokes, 4, 'the first revoke and three retries');
    assert.equal(metrics.counts.get('shred_revoke:given_up'), 1);
  });
});
