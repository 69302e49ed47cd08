import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectSuite, read } from './testing/connect-suite.js';

describe('races and failures in the connect sequence: exchange, hand-off, record, revoke', () => {
  const t = connectSuite('auth-races');

  it('a failed hand-off to the token-service records nothing, emits nothing and revokes the grant at Intuit', async () => {
    for (const mode of ['unavailable', 'unreachable', 'stores-unavailable'] as const) {
      const before = (await t.outboxEvents()).length;
      const revokes = t.intuitRevokes();
      const br = t.browser();
      const { callbackUrl } = await t.startFlow(br, `org-handoff-${mode}`, { realmId: t.freshRealm() });
      t.tokenService.setMode(mode);
      try {
        const res = await br.callback(callbackUrl, 'application/json');
        assert.equal(res.status, 503, mode);
        assert.equal((await read(res)).code, 'token_service_unavailable');
      } finally {
        t.tokenService.setMode('ok');
      }
      const rows = await t.db.query('select 1 from auth.connection where org_id = $1', [
        `org-handoff-${mode}`,
      ]);
      assert.equal(rows.length, 0, `no connection recorded (${mode})`);
      assert.equal((await t.outboxEvents()).length, before, `no event (${mode})`);
      assert.equal(t.intuitRevokes(), revokes + 1, `the grant nobody holds was revoked at Intuit (${mode})`);
    }

    // Renewing a live connection: its connection at the token-service is left alone, the new grant revoked.
    const org = 'org-handoff-renew';
    const realmId = t.freshRealm();
    const { connectionId } = await t.connect(org, realmId);
    const br = t.browser();
    const { callbackUrl } = await t.startFlow(br, org, { realmId });
    const revokes = t.intuitRevokes();
    t.tokenService.setMode('stores-unavailable');
    try {
      assert.equal((await br.callback(callbackUrl, 'application/json')).status, 503);
    } finally {
      t.tokenService.setMode('ok');
    }
    assert.ok(!t.tokenService.revokes.includes(connectionId), 'not revoked through the token-service');
    assert.equal(t.tokenService.current(connectionId)?.status, 'active');
    assert.equal(t.intuitRevokes(), revokes + 1, 'the new grant was revoked at Intuit');
    assert.equal((await read(await t.api(`/connections/${connectionId}`, org))).status, 'active');
  });

  it('two orgs racing for one realm: the loser is answered as a failed exchange and its grant revoked through the token-service', async () => {
    const realmId = t.freshRealm();
    const winner = t.browser();
    const loser = t.browser();
    const lost = await t.startFlow(loser, 'org-race-loser', { realmId });
    const won = await t.startFlow(winner, 'org-race-winner', { realmId });
    const revokes = t.intuitRevokes();
    let winnerStatus = 0;
    // The loser's credentials are stored; before it records its row, the winner completes its whole connect.
    t.tokenService.afterStore = async () => {
      t.tokenService.afterStore = undefined;
      winnerStatus = (await winner.callback(won.callbackUrl, 'application/json')).status;
    };
    try {
      const res = await loser.callback(lost.callbackUrl, 'application/json');
      assert.equal(res.status, 502);
      assert.equal((await read(res)).code, 'exchange_failed', 'nothing tells who holds the realm');
    } finally {
      t.tokenService.afterStore = undefined;
    }
    assert.equal(winnerStatus, 303, 'the winner connected');
    const loserId = t.tokenService.stores.find((st) => st.body.orgId === 'org-race-loser')?.connectionId;
    assert.ok(loserId);
    assert.deepEqual(
      t.tokenService.revokes.filter((id) => id === loserId),
      [loserId],
      "the loser's grant is revoked through the token-service",
    );
    assert.equal(t.tokenService.current(loserId)?.status, 'disconnected');
    assert.equal(t.intuitRevokes(), revokes + 1, 'and at Intuit');
    const rows = await t.db.query<{ org_id: string }>(
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
    const realmId = t.freshRealm();
    const { connectionId } = await t.connect(org, realmId);
    const br = t.browser();
    const { callbackUrl } = await t.startFlow(br, org, { realmId });
    const revokesBefore = t.tokenService.revokes.filter((id) => id === connectionId).length;
    let disconnectStatus = 0;
    // The reconnect reuses the live connection's id; the user disconnects it while the new grant is handed off.
    t.tokenService.afterStore = async () => {
      t.tokenService.afterStore = undefined;
      disconnectStatus = (await t.api(`/connections/${connectionId}`, org, { method: 'DELETE' })).status;
    };
    try {
      const res = await br.callback(callbackUrl, 'application/json');
      assert.equal(res.status, 409);
      assert.equal((await read(res)).code, 'connection_disconnected_meanwhile');
    } finally {
      t.tokenService.afterStore = undefined;
    }
    assert.equal(disconnectStatus, 200);
    assert.equal((await read(await t.api(`/connections/${connectionId}`, org))).status, 'disconnected');
    assert.equal(
      t.tokenService.revokes.filter((id) => id === connectionId).length,
      revokesBefore + 2,
      'revoked by the disconnect and again for the discarded grant',
    );
    assert.ok(
      t.a.logs.some(
        (l) => l.msg === 'connect attempt rejected' && l.reason === 'connection_disconnected_meanwhile',
      ),
      'logged',
    );
    const audit = (await t.outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.orgId === org && e.data.reason === 'connection_disconnected_meanwhile',
    );
    assert.equal(audit.length, 1, 'audited once');
  });

  t.itLeaksNothing({
    material: { tokens: 10, codes: 9, states: 9 },
    errors: ['credentials not handed to the token-service'],
  });
});
