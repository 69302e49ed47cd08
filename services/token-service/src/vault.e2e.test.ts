import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceProcess } from '@qbo/testkit';
import { TokenServiceError } from '@qbo/token-api';
import { parseKeyRing } from './domain/key-ring.js';
import { sealedKid } from './domain/sealing.js';
import {
  type Collector,
  type Connected,
  clientFor,
  collectTokenEvents,
  connectAndStore,
  connectionsProducer,
  createEnv,
  type Env,
  key,
  publishDisconnect,
  serviceEnv,
  startChild,
  waitFor,
} from './testing/harness.js';
import { createVault } from './vault/vault.js';

/** Every row of every table in the service's schema, as text. */
async function dump(env: Env): Promise<string[]> {
  const tables = await env.db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'token'`,
  );
  const rows: string[] = [];
  for (const { table_name } of tables) {
    const found = await env.db.query<{ j: string }>(
      `select row_to_json(t)::text as j from token."${table_name}" t`,
    );
    rows.push(...found.map((r) => r.j));
  }
  return rows;
}

describe('vault: envelope encryption, key rotation, crypto-shredding (child processes)', () => {
  let env: Env;
  let events: Collector;
  const k1 = `k1:${key()}`;
  const k2 = `k2:${key()}`;
  const k3 = `k3:${key()}`;
  const procs: ServiceProcess[] = [];
  const secrets: string[] = [];
  let a: Connected;
  let b: Connected;
  let sealedBefore: { access: string; dek: string } | undefined;
  /** a's data key as sealed under k2, copied just before its shred (what a later backup would hold). */
  let sealedUnderK2: string | undefined;
  let refreshedAccess = '';

  const start = async (ring: string, active: string) => {
    const proc = await startChild(serviceEnv(env, { TOKEN_KEYS: ring, TOKEN_ACTIVE_KEY_ID: active }));
    procs.push(proc);
    return proc;
  };
  const credential = async (id: string) =>
    (
      await env.db.query<{ access_token_sealed: string | null; sealed_key: string | null; status: string }>(
        `select c.access_token_sealed, c.status, d.sealed_key
         from token.credential c left join token.data_key d using (connection_id) where c.connection_id = $1`,
        [id],
      )
    )[0];

  before(async () => {
    env = await createEnv('token_vault');
    events = await collectTokenEvents(env.bus);
  });
  after(async () => {
    await events?.stop();
    for (const p of procs) await p.stop();
    await env?.close();
  });

  it('keeps only ciphertext in the database', async () => {
    const proc = await start(k1, 'k1');
    const client = clientFor(proc.url);
    const [r1, r2] = env.sim.control.companies().map((c) => c.realmId);
    a = await connectAndStore(env.sim, client, r1);
    b = await connectAndStore(env.sim, client, r2);
    const refreshed = await client.refreshAfterRejection(a.connectionId, a.accessToken);
    refreshedAccess = refreshed.accessToken;
    secrets.push(a.accessToken, a.refreshToken, b.accessToken, b.refreshToken, refreshed.accessToken);

    const rows = await dump(env);
    assert.ok(rows.length >= 4, 'credentials, data keys and outbox rows were dumped');
    for (const secret of secrets) {
      assert.ok(!rows.some((r) => r.includes(secret)), 'no plaintext token in any row of any table');
    }
    const row = await credential(a.connectionId);
    assert.ok(row?.access_token_sealed && row.sealed_key);
    assert.equal(sealedKid(row.access_token_sealed), 'dek', 'tokens are sealed by the data key');
    assert.equal(sealedKid(row.sealed_key), 'k1', 'the data key is sealed by the active key');
    sealedBefore = { access: row.access_token_sealed, dek: row.sealed_key };
    await proc.stop();
  });

  it('reads rows sealed under a retired key after a rotation and re-seals them on read', async () => {
    const proc = await start(`${k1},${k2}`, 'k2');
    const client = clientFor(proc.url);
    const report = proc.logs.find((l) => l.msg === 'vault keys');
    assert.deepEqual(
      report?.dataKeysByKid,
      { k1: 2 },
      'start-up reports which key sealed how many data keys',
    );
    const token = await client.getAccessToken(a.connectionId);
    assert.equal(token.credentialVersion, 2);
    await waitFor(
      async () => {
        const row = await credential(a.connectionId);
        return row?.sealed_key && sealedKid(row.sealed_key) === 'k2';
      },
      { what: 'the data key re-sealed under k2' },
    );
    // Rows nobody reads are re-sealed too, by the scheduler's sweep, so that k1 can be retired.
    await waitFor(
      async () => {
        const row = await credential(b.connectionId);
        return row?.sealed_key && sealedKid(row.sealed_key) === 'k2';
      },
      { what: 'the unread data key re-sealed under k2 by the sweep' },
    );
    assert.equal((await client.getAccessToken(b.connectionId)).accessToken, b.accessToken);
  });

  it('shreds on ConnectionDisconnected: revoked at Intuit, data key gone, nothing left to open', async () => {
    const proc = procs.at(-1) as ServiceProcess;
    const client = clientFor(proc.url);
    sealedUnderK2 = (await credential(a.connectionId))?.sealed_key ?? undefined;
    const producer = await connectionsProducer(env.bus);
    try {
      await publishDisconnect(producer, a, false);
      await publishDisconnect(producer, a, false); // a redelivery changes nothing
    } finally {
      await producer.disconnect();
    }
    await waitFor(async () => (await credential(a.connectionId))?.status === 'disconnected', {
      timeoutMs: 30_000,
      what: 'the connection shredded',
    });
    const row = await credential(a.connectionId);
    assert.equal(row?.sealed_key, null, 'the data key row is deleted');
    assert.equal(row?.access_token_sealed, null);
    assert.equal(env.sim.control.counters()['-']?.revoke?.calls, 1, 'revoked at Intuit, once');

    const gone = await client.getAccessToken(a.connectionId).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(gone instanceof TokenServiceError);
    assert.equal(gone.code, 'connection_disconnected');
    assert.equal(gone.httpStatus, 410);

    // The service has no way left to open a's tokens: its data key row is gone (checked above). A copy of
    // that row kept elsewhere still opens with the ring as it is now, which is why a shred is made final
    // against copies by retiring the keys that sealed them (next test).
    const ringNow = createVault(parseKeyRing(`${k1},${k2}`, 'k2'));
    assert.ok(sealedBefore);
    const copied = ringNow.openDataKey(a.connectionId, sealedBefore.dek).dek;
    assert.equal(
      ringNow.openToken(copied, a.connectionId, 'access_token', 2, sealedBefore.access),
      refreshedAccess,
      'the old copies are genuine: with the key that sealed them they still open',
    );
    assert.equal(
      (await client.getAccessToken(b.connectionId)).accessToken,
      b.accessToken,
      'others unaffected',
    );

    // Revoked already by auth-service: shredded without another call to Intuit.
    const again = await connectionsProducer(env.bus);
    try {
      await publishDisconnect(again, b, true);
    } finally {
      await again.disconnect();
    }
    await waitFor(async () => (await credential(b.connectionId))?.status === 'disconnected', {
      timeoutMs: 30_000,
      what: 'the second connection shredded',
    });
    assert.equal(env.sim.control.counters()['-']?.revoke?.calls, 1);
  });

  it('makes a shred final for old copies of its data key once the keys that sealed them are retired', async () => {
    const before = procs.at(-1) as ServiceProcess;
    const live = await connectAndStore(env.sim, clientFor(before.url), a.realmId);
    secrets.push(live.accessToken, live.refreshToken);
    await before.stop();
    // Rotate past every key a copy of a's data key was sealed by: k3 seals, the sweep moves every live data
    // key onto it, and then k1 and k2 leave the ring.
    const rotating = await start(`${k2},${k3}`, 'k3');
    assert.deepEqual(rotating.logs.find((l) => l.msg === 'vault keys')?.dataKeysByKid, { k2: 1 });
    await waitFor(
      async () => {
        const row = await credential(live.connectionId);
        return row?.sealed_key && sealedKid(row.sealed_key) === 'k3';
      },
      { what: 'the live data key re-sealed under k3 by the sweep' },
    );
    await rotating.stop();
    const current = await start(k3, 'k3');
    assert.equal(
      (await clientFor(current.url).getAccessToken(live.connectionId)).accessToken,
      live.accessToken,
      'live connections work on the current ring alone',
    );
    assert.ok(!current.logs.some((l) => l.msg?.includes('cannot be opened')), 'no data key left behind');

    const ring = createVault(parseKeyRing(k3, 'k3'));
    assert.ok(sealedBefore && sealedUnderK2);
    for (const [copy, kid] of [
      [sealedBefore.dek, 'k1'],
      [sealedUnderK2, 'k2'],
    ] as const) {
      assert.equal(sealedKid(copy), kid);
      assert.throws(
        () => ring.openDataKey(a.connectionId, copy),
        (err: unknown) => (err as { code?: string }).code === 'unknown_key',
        `a copy sealed under ${kid} does not open with the current ring`,
      );
    }
    // The same copy opens with a ring that still holds k2: the check above is what retiring it changed.
    assert.doesNotThrow(() =>
      createVault(parseKeyRing(`${k2},${k3}`, 'k3')).openDataKey(a.connectionId, sealedUnderK2 ?? ''),
    );
  });

  it('logs a failed revoke as a warning by its status only, and keeps the connection', async () => {
    const proc = procs.at(-1) as ServiceProcess;
    const client = clientFor(proc.url);
    const c = await connectAndStore(env.sim, client, a.realmId);
    secrets.push(c.accessToken, c.refreshToken);
    const fault = env.sim.control.addFault({ kind: '503', endpoint: 'revoke', times: 1 });
    try {
      assert.deepEqual(await client.revoke(c.connectionId), {
        connectionId: c.connectionId,
        revokedAtIntuit: false,
      });
    } finally {
      env.sim.control.removeFault(fault.id);
    }
    const line = await waitFor(
      () => proc.logs.find((l) => l.msg === 'revoke at Intuit failed' && l.connectionId === c.connectionId),
      { what: 'the revoke warning' },
    );
    assert.equal(line.level, 'warn');
    assert.equal(line.outcome, '503');
    assert.equal((await client.status(c.connectionId)).status, 'active');
  });

  it('never lets a token reach the logs or the topics', async () => {
    await waitFor(() => events.of('TokenRotated', a.connectionId).length > 0, { what: 'TokenRotated' });
    const logs = procs.map((p) => p.output()).join('\n');
    const topics = JSON.stringify(events.events);
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), 'no token in the service logs');
      assert.ok(!topics.includes(secret), 'no token on the topics');
    }
    const rows = await dump(env);
    for (const secret of secrets) assert.ok(!rows.some((r) => r.includes(secret)));
  });
});
