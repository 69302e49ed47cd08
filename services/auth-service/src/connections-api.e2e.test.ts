import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { readTopic } from '@qbo/event-bus/testing';
import {
  ConnectionDeactivated,
  createEventFactory,
  type EventOfType,
  SyncCompleted,
  topics,
} from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { connectSuite, read } from './testing/connect-suite.js';
import { APP_ORIGIN, orgToken } from './testing/harness.js';

describe('connecting and the connections API: simulator as Intuit, token-service double, Kafka, Postgres, Redis', () => {
  const t = connectSuite('auth-connections');

  it('happy path: tokens reach the token-service, ConnectionEstablished reaches Kafka without a secret', async () => {
    const realmId = t.realms[0] ?? '';
    const { location, connectionId } = await t.connect('org-happy', realmId);
    assert.equal(location.origin, APP_ORIGIN);
    assert.equal(location.pathname, '/settings');
    assert.equal(location.searchParams.get('status'), 'connected');
    assert.match(connectionId, /^[0-9a-f-]{36}$/);

    const stored = t.tokenService.stores.filter((s) => s.connectionId === connectionId);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.body.orgId, 'org-happy');
    assert.equal(stored[0]?.body.realmId, realmId);
    assert.deepEqual(stored[0]?.body.scopes, ['com.intuit.quickbooks.accounting', 'openid']);
    assert.equal(
      t.tokenEndpointCalls(),
      1,
      'one code exchange, with the PKCE verifier the simulator checked',
    );

    const [message] = await readTopic(t.bus.kafka, t.bus.names.physical(topics.connections), 1);
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
      ...t.handled.codes,
      ...t.handled.states,
    ])
      assert.ok(secret && !text.includes(secret), 'no token, code or state in the event');

    const view = await read(await t.api(`/connections/${connectionId}`, 'org-happy'));
    assert.equal(view.status, 'active');
    assert.equal(view.realmId, realmId);
    assert.equal(view.lastSyncAt, null);
    const state = await t.db.query('select state_hash, used_at from auth.oauth_state');
    assert.equal(state.length, 1);
    assert.notEqual(state[0]?.state_hash, [...t.handled.states][0], 'the state is stored hashed');
    assert.ok(state[0]?.used_at, 'and spent');
  });

  it('a realm held by another org is refused after the exchange, as a failed exchange, its grant revoked; after a disconnect it may move', async () => {
    const realmId = t.realms[2] ?? '';
    const owner = await t.connect('org-owner', realmId);
    const exchanges = t.tokenEndpointCalls();
    const revokes = t.intuitRevokes();
    const br = t.browser();
    const { callbackUrl } = await t.startFlow(br, 'org-other', { realmId });
    const refused = await br.callback(callbackUrl, 'application/json');
    assert.equal(refused.status, 502);
    assert.equal((await read(refused)).code, 'exchange_failed');
    assert.equal(t.tokenEndpointCalls(), exchanges + 1, 'refused once the exchange proved the grant');
    await waitFor(async () => t.intuitRevokes() === revokes + 1, {
      what: 'the refused grant revoked at Intuit',
    });
    assert.ok(!t.tokenService.stores.some((s) => s.body.orgId === 'org-other'), 'no tokens handed on');
    const audits = (await t.outboxEvents('ConnectAttemptRejected')).filter((e) => e.orgId === 'org-other');
    assert.deepEqual(
      audits.map((e) => e.data.reason),
      ['realm_owned_by_other_org'],
      'the audit trail says why',
    );

    const disconnected = await t.api(`/connections/${owner.connectionId}`, 'org-owner', { method: 'DELETE' });
    assert.equal(disconnected.status, 200);
    const moved = await t.connect('org-other', realmId);
    assert.notEqual(moved.connectionId, owner.connectionId);

    // A connect after a disconnect is a new connection, even for the same org and realm: the disconnect's
    // shredding at the token-service can then never reach the new grant.
    await t.api(`/connections/${moved.connectionId}`, 'org-other', { method: 'DELETE' });
    const again = await t.connect('org-other', realmId);
    assert.notEqual(again.connectionId, moved.connectionId);
    const established = (await t.outboxEvents('ConnectionEstablished')).filter(
      (e) => e.data.connectionId === again.connectionId,
    );
    assert.equal(established.length, 1);
  });

  it('connections API: list, get, 401 without or with a bad credential, 404 for another org, idempotent disconnect', async () => {
    const realmId = t.realms[3] ?? '';
    const { connectionId } = await t.connect('org-api', realmId);
    const list = await read(await t.api('/connections', 'org-api'));
    assert.deepEqual(
      (list.connections ?? []).map((c) => c.id),
      [connectionId],
    );
    assert.equal((await fetch(`${t.a.url}/connections`)).status, 401);
    const forged = await orgToken('org-api', { secret: 'a-different-secret-that-is-long-enough' });
    assert.equal(
      (await fetch(`${t.a.url}/connections`, { headers: { authorization: `Bearer ${forged}` } })).status,
      401,
    );
    const wrongAudience = await orgToken('org-api', { audience: 'someone-else' });
    assert.equal(
      (await fetch(`${t.a.url}/connections`, { headers: { authorization: `Bearer ${wrongAudience}` } }))
        .status,
      401,
    );
    assert.equal((await t.api(`/connections/${connectionId}`, 'org-intruder')).status, 404);
    assert.equal(
      (await t.api(`/connections/${connectionId}`, 'org-intruder', { method: 'DELETE' })).status,
      404,
    );

    const revokesBefore = t.sim.control.counters()['-']?.revoke?.calls ?? 0;
    const first = await t.api(`/connections/${connectionId}`, 'org-api', { method: 'DELETE' });
    assert.equal(first.status, 200);
    const view = await read(first);
    assert.equal(view.status, 'disconnected');
    assert.match(String(view.reconnectUrl), /\/connect\/quickbooks$/);
    const second = await t.api(`/connections/${connectionId}`, 'org-api', { method: 'DELETE' });
    assert.equal(second.status, 200);
    assert.equal((await read(second)).status, 'disconnected');
    const events = (await t.outboxEvents('ConnectionDisconnected')).filter(
      (e) => e.data.connectionId === connectionId,
    );
    assert.equal(events.length, 1, 'one ConnectionDisconnected for two calls');
    assert.equal(events[0]?.data.revokedAtIntuit, true);
    assert.equal(
      t.sim.control.counters()['-']?.revoke?.calls ?? 0,
      revokesBefore + 1,
      'revoked at Intuit once',
    );
  });

  it('reconnect after deactivation: same connection id, ConnectionReauthorized, status back to active', async () => {
    const org = 'org-reconnect';
    const own = t.freshRealm();
    const { connectionId } = await t.connect(org, own);
    const events = createEventFactory({ source: 'token-service' });
    await t.producer.publish(
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
        const v = await read(await t.api(`/connections/${connectionId}`, org));
        return v.status === 'deactivated' ? v : undefined;
      },
      { timeoutMs: 60_000, what: 'the status view shows the deactivation' },
    );
    assert.equal(deactivated.deactivationReason, 'invalid_grant');
    assert.match(String(deactivated.reconnectUrl), /\/connect\/quickbooks$/);

    const again = await t.connect(org, own);
    assert.equal(again.connectionId, connectionId, 'the connection id is stable per org and realm');
    const reauth = (await t.outboxEvents('ConnectionReauthorized')).filter(
      (e) => e.data.connectionId === connectionId,
    );
    assert.equal(reauth.length, 1);
    assert.equal(reauth[0]?.data.previousStatus, 'deactivated');
    const view = await read(await t.api(`/connections/${connectionId}`, org));
    assert.equal(view.status, 'active');
    assert.equal(view.deactivationReason, null);
    assert.equal(t.tokenService.current(connectionId)?.version, 2, 'the token-service got the new grant');

    const completedAt = new Date().toISOString();
    await t.producer.publish(
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
        (await read(await t.api(`/connections/${connectionId}`, org))).lastSyncAt ===
        new Date(completedAt).toISOString(),
      { timeoutMs: 60_000, what: 'the last sync is projected' },
    );
  });

  t.itLeaksNothing({ material: { tokens: 14, codes: 8, states: 8 }, errors: [] });
});
