import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GrantRecord } from '../store/connections.js';
import { DisconnectedMeanwhile } from '../store/connections.js';
import { fakeIntuit, fakeTokenService, memoryLog } from '../testing/fakes.js';
import { type Callback, createCompleteConnection, type RecordGrant } from './complete-connection.js';

const AT = new Date('2026-03-01T10:00:00.000Z');
const GRANT = {
  accessToken: 'access-abc',
  refreshToken: 'refresh-xyz',
  accessTokenExpiresAt: '2026-03-01T11:00:00.000Z',
  refreshTokenExpiresAt: '2026-06-01T10:00:00.000Z',
};
const CALLBACK: Callback = {
  orgId: 'org-1',
  userId: 'user-1',
  realmId: '9130001',
  code: 'code-1',
  state: 'state-1',
  codeVerifier: () => undefined,
};

function setup({ live, record, owner }: { live?: string; record?: RecordGrant; owner?: string } = {}) {
  const ts = fakeTokenService();
  const intuit = fakeIntuit(GRANT);
  const recorded: GrantRecord[] = [];
  const sleeps: number[] = [];
  const { log, lines } = memoryLog();
  const complete = createCompleteConnection({
    intuit: intuit.intuit,
    tokens: ts.tokens,
    ownerOfRealm: async () => owner,
    liveConnection: async () => (live ? { id: live } : undefined),
    record:
      record ??
      (async (g) => {
        recorded.push(g);
        return live ? 'degraded' : undefined;
      }),
    log,
    settings: { environment: 'sandbox', scopes: ['com.intuit.quickbooks.accounting', 'openid'] },
    now: () => AT,
    newId: () => 'new-connection',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { complete, ts, intuit, recorded, sleeps, lines };
}

const uniqueViolation = () => Object.assign(new Error('duplicate key'), { code: '23505' });

describe('completing a connection', () => {
  it('refuses a realm another org holds only after the exchange, revoking the fresh grant at Intuit', async () => {
    const { complete, ts, recorded, intuit } = setup({ owner: 'org-other' });
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'realm_owned_by_other_org' });
    assert.deepEqual(intuit.revoked, ['refresh-xyz']);
    assert.deepEqual([...ts.stored.keys()], [], 'nothing handed to the token-service');
    assert.deepEqual(recorded, []);
  });

  it('renews the realm the same org holds', async () => {
    const { complete, intuit } = setup({ owner: 'org-1', live: 'live-connection' });
    assert.equal((await complete(CALLBACK)).ok, true);
    assert.deepEqual(intuit.revoked, []);
  });

  it('hands the grant to the token-service, then records the connection at the clock’s time', async () => {
    const { complete, ts, recorded, intuit } = setup();
    assert.deepEqual(await complete(CALLBACK), {
      ok: true,
      connectionId: 'new-connection',
      reconnect: false,
    });
    assert.equal(ts.stored.get('new-connection')?.refreshToken, 'refresh-xyz');
    assert.deepEqual(recorded, [
      {
        id: 'new-connection',
        orgId: 'org-1',
        realmId: '9130001',
        environment: 'sandbox',
        scopes: ['com.intuit.quickbooks.accounting', 'openid'],
        connectedBy: 'user-1',
        at: AT,
      },
    ]);
    assert.deepEqual(ts.revokes, []);
    assert.deepEqual(intuit.revoked, []);
  });

  it('renews a live connection under its own id', async () => {
    const { complete, ts } = setup({ live: 'live-connection' });
    assert.deepEqual(await complete(CALLBACK), {
      ok: true,
      connectionId: 'live-connection',
      reconnect: true,
    });
    assert.deepEqual(ts.storeCalls, ['live-connection']);
  });

  it('says so when Intuit names another realm, and hands nothing off', async () => {
    const { complete, ts, intuit } = setup();
    intuit.state.exchangeFails = 'realm_mismatch';
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'realm_mismatch' });
    intuit.state.exchangeFails = 'invalid_grant';
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'exchange_failed' });
    assert.deepEqual(ts.storeCalls, []);
  });

  it('retries a retryable hand-off, waiting what the token-service asked', async () => {
    const { complete, ts, sleeps } = setup();
    ts.storeFailures.push('refresh_unavailable', 'timeout');
    ts.state.retryAfterMs = 1_000;
    assert.equal((await complete(CALLBACK)).ok, true);
    assert.deepEqual(ts.storeCalls, ['new-connection', 'new-connection', 'new-connection']);
    assert.deepEqual(sleeps, [1_000, 1_000]);
  });

  it('a failed hand-off of a new connection is revoked through the token-service, not at Intuit', async () => {
    const { complete, ts, intuit, recorded } = setup();
    ts.storeFailures.push('internal_error', 'internal_error', 'internal_error');
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'token_service_unavailable' });
    assert.equal(ts.storeCalls.length, 3, 'three attempts');
    assert.deepEqual(ts.revokes, ['new-connection']);
    // The token-service never stored it, so it cannot revoke it: Intuit is asked directly.
    assert.deepEqual(intuit.revoked, ['refresh-xyz']);
    assert.deepEqual(recorded, []);
  });

  it('a failed hand-off of a live connection revokes the new grant at Intuit only', async () => {
    const { complete, ts, intuit } = setup({ live: 'live-connection' });
    ts.storeFailures.push('bad_response');
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'token_service_unavailable' });
    assert.equal(ts.storeCalls.length, 1, 'not retryable');
    assert.deepEqual(ts.revokes, [], 'the live connection is left alone at the token-service');
    assert.deepEqual(intuit.revoked, ['refresh-xyz']);
  });

  it('a realm taken meanwhile by another org revokes the stored grant through the token-service', async () => {
    const { complete, ts, intuit } = setup({
      record: async () => {
        throw uniqueViolation();
      },
    });
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'realm_owned_by_other_org' });
    assert.deepEqual(ts.revokes, ['new-connection']);
    assert.deepEqual(intuit.revoked, [], 'the token-service revoked it at Intuit');
  });

  it('a connection disconnected meanwhile gets its new grant revoked, and the caller is told', async () => {
    const { complete, ts } = setup({
      live: 'live-connection',
      record: async () => {
        throw new DisconnectedMeanwhile('live-connection');
      },
    });
    assert.deepEqual(await complete(CALLBACK), { ok: false, refusal: 'connection_disconnected_meanwhile' });
    assert.deepEqual(ts.revokes, ['live-connection']);
  });

  it('falls back to Intuit when the token-service cannot revoke, logging only the code', async () => {
    const { complete, ts, intuit, lines } = setup({
      record: async () => {
        throw uniqueViolation();
      },
    });
    ts.state.revokeFails = 'timeout';
    await complete(CALLBACK);
    assert.deepEqual(intuit.revoked, ['refresh-xyz']);
    const warned = lines.find((l) => String(l.msg).startsWith('revoking a discarded grant through'));
    assert.equal(warned?.errorCode, 'timeout');
    assert.doesNotMatch(JSON.stringify(lines), /refresh-xyz|access-abc/);
  });

  it('rethrows a recording failure it does not know, after revoking the grant', async () => {
    const { complete, ts } = setup({
      record: async () => {
        throw new Error('database away');
      },
    });
    await assert.rejects(complete(CALLBACK), /database away/);
    assert.deepEqual(ts.revokes, ['new-connection']);
  });
});
