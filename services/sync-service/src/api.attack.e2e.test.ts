import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { attack } from '@qbo/testkit';
import { SignJWT } from 'jose';
import { simulatorRecords } from './testing/compare.js';
import { ORG_JWT, orgToken } from './testing/org-tokens.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi, endpointsOf, listEndpoints } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;
let url = '';
const a = { orgId: newOrg(), realmId: '', connectionId: '', runId: '', errorId: '' };
const b = { orgId: newOrg(), realmId: '', connectionId: '', runId: '', errorId: '' };

before(async () => {
  sim = await startSimulator(['--seed', '23', '--companies', '2', '--records', '100']);
  stack = await startSyncStack(sim);
  url = (await stack.startReplica()).url;
  // One record of each company Intuit cannot return, so each org has an error row to name.
  for (const realmId of sim.realmIds.slice(0, 2) as string[]) {
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()].sort();
    await sim.addFault({
      kind: 'poison',
      realmId,
      entity: 'Customer',
      recordId: customers[5] as string,
      code: '4002',
    });
  }
  for (const [org, realmId] of [
    [a, sim.realmIds[0]],
    [b, sim.realmIds[1]],
  ] as const) {
    org.realmId = realmId as string;
    org.connectionId = await stack.connect(org.realmId, org.orgId);
    org.runId = (await stack.waitForRun(org.realmId, { mode: 'initial', status: 'completed' })).run_id;
    const [row] = await stack.db.query<{ error_id: string }>(
      'select error_id::text from sync.sync_error where realm_id = $1',
      [org.realmId],
    );
    org.errorId = row?.error_id as string;
  }
  await sim.clearFaults();
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

/** What the API could change of a company: the attacks assert it stays as it was. */
const controlsOf = async (realmId: string) =>
  stack.db.query(
    `select paused_at, interval_ms, wanted_at, schedule_at, needs_load, reconcile_at,
       (select count(*) from sync.sync_retry r where r.realm_id = t.realm_id) as retries,
       (select json_agg(e order by e.error_id) from sync.sync_error e where e.realm_id = t.realm_id) as errors
     from sync.sync_target t where realm_id = $1`,
    [realmId],
  );

describe('sync API under attack', () => {
  attack(
    "another org's run, connection and error ids answer 404 on every endpoint, and change nothing",
    async () => {
      const intruder = await orgToken(b.orgId);
      const owner = await orgToken(a.orgId);
      const before = await controlsOf(a.realmId);
      for (const [method, path, body] of endpointsOf(a)) {
        const answer = await callApi(url, method, path, { token: intruder, ...(body ? { body } : {}) });
        assert.equal(answer.status, 404, `${method} ${path}`);
        assert.match(answer.contentType, /application\/problem\+json/);
        assert.ok(
          ['run_not_found', 'connection_not_found', 'error_not_found'].includes(answer.body.code),
          `${method} ${path}`,
        );
        assert.doesNotMatch(JSON.stringify(answer.body), new RegExp(`${a.orgId}|${a.realmId}`));
      }
      assert.deepEqual(await controlsOf(a.realmId), before, "the other org's company is untouched");
      // The same requests from the owner find them: the 404s above were about the org, not the ids.
      for (const [method, path] of endpointsOf(a).filter(([m]) => m === 'GET')) {
        assert.equal(
          (await callApi(url, method, path, { token: owner })).status,
          200,
          `owner ${method} ${path}`,
        );
      }
    },
  );

  attack(
    "an org's listings hold none of another org's runs, connections or errors, even filtered by its id",
    async () => {
      const intruder = await orgToken(b.orgId);
      for (const query of [
        '',
        `?orgId=${a.orgId}`,
        `?realmId=${a.realmId}`,
        `?connectionId=${a.connectionId}`,
      ]) {
        const runs = await callApi(url, 'GET', `/runs${query}`, { token: intruder });
        assert.equal(runs.status, 200, `/runs${query}`);
        assert.ok(
          runs.body.runs.every((r: { orgId: string }) => r.orgId === b.orgId),
          `/runs${query} holds only the caller's runs`,
        );
      }
      for (const query of ['', `?orgId=${a.orgId}`, `?connectionId=${a.connectionId}`, `?runId=${a.runId}`]) {
        const errors = await callApi(url, 'GET', `/errors${query}`, { token: intruder });
        assert.equal(errors.status, 200, `/errors${query}`);
        assert.ok(
          errors.body.errors.every((r: { orgId: string }) => r.orgId === b.orgId),
          `/errors${query} holds only the caller's errors`,
        );
      }
      const ownErrors = await callApi(url, 'GET', '/errors', { token: intruder });
      assert.deepEqual(
        ownErrors.body.errors.map((r: { errorId: string }) => r.errorId),
        [b.errorId],
        "the caller's own error row is listed",
      );
      const own = await callApi(url, 'GET', '/runs', { token: intruder });
      assert.ok(
        own.body.runs.some((r: { id: string }) => r.id === b.runId),
        "the caller's own load is listed",
      );
      const connections = await callApi(url, 'GET', '/connections', { token: intruder });
      assert.deepEqual(
        connections.body.connections.map((c: { connectionId: string }) => c.connectionId),
        [b.connectionId],
      );
    },
  );

  attack(
    'a missing, malformed, expired, wrongly signed or wrongly addressed credential gets 401 on every endpoint',
    async () => {
      const claims = { org_id: a.orgId };
      const signed = (o: { key?: string; aud?: string; iss?: string; exp?: number | string }) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(o.iss ?? ORG_JWT.issuer)
          .setAudience(o.aud ?? ORG_JWT.audience)
          .setExpirationTime(o.exp ?? '5m')
          .sign(new TextEncoder().encode(o.key ?? ORG_JWT.secret));
      const credentials: (string | undefined)[] = [
        undefined,
        '',
        'Bearer',
        `Basic ${Buffer.from(`${a.orgId}:x`).toString('base64')}`,
        'Bearer not.a.jwt',
        `Bearer ${await signed({ key: 'another-signing-secret-0123456789abcdef' })}`,
        `Bearer ${await signed({ exp: Math.floor(Date.now() / 1000) - 60 })}`,
        `Bearer ${await signed({ aud: 'another-service' })}`,
        `Bearer ${await signed({ iss: 'https://attacker.test' })}`,
        `Bearer ${(await orgToken(a.orgId)).split('.').slice(0, 2).join('.')}.`,
      ];
      const endpoints = [...listEndpoints, ...endpointsOf(a)];
      const before = await controlsOf(a.realmId);
      for (const authorization of credentials) {
        for (const [method, path, body] of endpoints) {
          const answer = await callApi(url, method, path, {
            ...(authorization === undefined ? {} : { authorization }),
            ...(body ? { body } : {}),
          });
          assert.equal(answer.status, 401, `${method} ${path} with ${String(authorization).slice(0, 20)}`);
          assert.equal(answer.body.code, 'unauthenticated');
          assert.match(answer.contentType, /application\/problem\+json/);
        }
      }
      assert.deepEqual(await controlsOf(a.realmId), before, 'nothing changed');
      assert.equal((await callApi(url, 'GET', '/runs', { token: await orgToken(a.orgId) })).status, 200);
    },
  );

  attack('a valid credential for the reserved org `_unknown` is refused with 403 org_reserved', async () => {
    const reserved = await orgToken('_unknown', { operator: true });
    for (const [method, path] of listEndpoints) {
      const answer = await callApi(url, method, path, { token: reserved });
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body.code, 'org_reserved');
    }
  });
});
