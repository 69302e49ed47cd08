import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { attack } from '@qbo/testkit';
import { orgToken } from './testing/org-tokens.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;
let url = '';
const a = { orgId: newOrg(), realmId: '', connectionId: '' };
const b = { orgId: newOrg(), realmId: '', connectionId: '' };
let erasureOfB = '';

before(async () => {
  sim = await startSimulator(['--seed', '24', '--companies', '3', '--records', '60']);
  stack = await startSyncStack(sim);
  url = (await stack.startReplica({ SYNC_PURGE_POLL_MS: '200' })).url;
  for (const [org, realmId] of [
    [a, sim.realmIds[0]],
    [b, sim.realmIds[1]],
  ] as const) {
    org.realmId = realmId as string;
    org.connectionId = await stack.connect(org.realmId, org.orgId);
    await stack.waitForRun(org.realmId, { mode: 'initial', status: 'completed' });
  }
  // An erasure of another org's company, whose audit row A must not see.
  const c = { orgId: b.orgId, realmId: sim.realmIds[2] as string };
  const connectionId = await stack.connect(c.realmId, c.orgId);
  await stack.waitForRun(c.realmId, { mode: 'initial', status: 'completed' });
  const erased = await callApi(url, 'POST', `/connections/${connectionId}/erasure`, {
    token: await orgToken(b.orgId),
  });
  assert.equal(erased.status, 202);
  erasureOfB = erased.body.erasureId;
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

/** What an erasure would change: the company's mirror and status, and the erasures recorded. */
const stateOf = async (orgId: string) =>
  stack.db.query(
    `select (select count(*)::int from sync.mirror_record where org_id = $1) as records,
       (select json_agg(status order by realm_id) from sync.sync_target where org_id = $1) as statuses,
       (select count(*)::int from sync.data_erasure where org_id = $1) as erasures`,
    [orgId],
  );

describe('erasure API attacks', () => {
  attack("an org erasing another org's company gets 404 and erases nothing", async () => {
    const before = await stateOf(a.orgId);
    const answer = await callApi(url, 'POST', `/connections/${a.connectionId}/erasure`, {
      token: await orgToken(b.orgId),
    });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.code, 'connection_not_found');
    const unknown = await callApi(url, 'POST', '/connections/00000000-0000-4000-8000-000000000000/erasure', {
      token: await orgToken(b.orgId),
    });
    assert.deepEqual(unknown.body, answer.body, 'the same answer as an unknown id');
    assert.deepEqual(await stateOf(a.orgId), before, 'nothing changed');
  });

  attack('an org that is not an operator cannot erase an org, its own or another', async () => {
    const before = await stateOf(a.orgId);
    for (const orgId of [a.orgId, b.orgId]) {
      const answer = await callApi(url, 'POST', `/orgs/${a.orgId}/erasure`, { token: await orgToken(orgId) });
      assert.equal(answer.status, 403);
      assert.equal(answer.body.code, 'operator_required');
    }
    assert.deepEqual(await stateOf(a.orgId), before, 'nothing changed');
  });

  attack("an org reading another org's erasure gets 404", async () => {
    const answer = await callApi(url, 'GET', `/erasures/${erasureOfB}`, { token: await orgToken(a.orgId) });
    assert.equal(answer.status, 404);
    assert.equal(answer.body.code, 'erasure_not_found');
    const own = await callApi(url, 'GET', `/erasures/${erasureOfB}`, { token: await orgToken(b.orgId) });
    assert.equal(own.status, 200, 'its own org reads it');
  });

  attack('erasure endpoints without a valid credential answer 401 and erase nothing', async () => {
    const before = await stateOf(a.orgId);
    for (const [method, path] of [
      ['POST', `/connections/${a.connectionId}/erasure`],
      ['POST', `/orgs/${a.orgId}/erasure`],
      ['GET', `/erasures/${erasureOfB}`],
    ] as const) {
      for (const authorization of [undefined, 'Bearer not-a-token']) {
        const answer = await callApi(url, method, path, authorization === undefined ? {} : { authorization });
        assert.equal(answer.status, 401, `${method} ${path}`);
        assert.equal(answer.body.code, 'unauthenticated');
      }
    }
    const forged = await orgToken(a.orgId, {
      operator: true,
      secret: 'another-signing-secret-0123456789abcdef',
    });
    const answer = await callApi(url, 'POST', `/orgs/${a.orgId}/erasure`, { token: forged });
    assert.equal(answer.status, 401, 'an operator claim signed with another key');
    assert.deepEqual(await stateOf(a.orgId), before, 'nothing changed');
  });
});
