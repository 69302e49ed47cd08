import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  budgetLimits,
  createBudget,
  createMemoryBudgetStore,
  createQboClient,
  isQboError,
  type QboClient,
  type TokenProvider,
} from '@qbo/qbo-client';
import { createLogger } from '@qbo/service-kit';
import { callsTo, type SimulatorUnderTest, startSimulator } from '../testing/simulator-control.js';
import { type RunningTokenService, startTokenService, storeGrant } from '../testing/token-service.js';
import { createTokenApiProvider } from './token-api-provider.js';

let sim: SimulatorUnderTest;
let tokenService: RunningTokenService;
const log = createLogger({ service: 'sync-service', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
// One budget for every client here, as the replicas of a fleet share one in Redis.
const budget = createBudget({
  store: createMemoryBudgetStore(budgetLimits({ perMinute: 10_000, perSecond: 10_000, concurrent: 1_000 })),
});

before(async () => {
  // Intuit's limits are off so that all the calls are in flight at Intuit together, a true stampede.
  sim = await startSimulator(['--seed', '11', '--companies', '2', '--records', '60', '--no-limits']);
  tokenService = await startTokenService(sim);
});

after(async () => {
  await tokenService?.stop();
  await sim?.stop();
});

/** A sync-service replica's QuickBooks client: its own token-api client and provider. */
const replica = (realmId: string, connectionId: string): QboClient => {
  const tokens: TokenProvider = createTokenApiProvider({
    tokens: tokenService.client(),
    connectionOf: (realm) => (realm === realmId ? connectionId : undefined),
  });
  return createQboClient({ baseUrl: sim.url, tokens, budget, log });
};

const customers = (client: QboClient, realmId: string, i: number) =>
  client.query(realmId, { entity: 'Customer', maxResults: 5 }, { orgId: 'org', correlationId: `call-${i}` });

const delta = (after: number | undefined, before: number | undefined) => (after ?? 0) - (before ?? 0);

describe('token provider over the real token-service', () => {
  it('20 concurrent calls refused with 401 on two replicas cause exactly one refresh at Intuit, and all succeed', async () => {
    const realmId = sim.realmIds[0] ?? '';
    const { connectionId } = await storeGrant(sim, tokenService.client(), realmId);
    const replicas = [replica(realmId, connectionId), replica(realmId, connectionId)];
    await customers(replicas[0] as QboClient, realmId, 0);
    await sim.expireAccessTokens(realmId);
    // Intuit's token endpoint takes its time: every call holds the old token before the refresh lands, so
    // all twenty are refused, and their twenty rejections meet one refresh in flight.
    await sim.addFault({ kind: 'latency', endpoint: 'token', latencyMs: 1_000, times: 1 });
    const before = await sim.counters();

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => customers(replicas[i % 2] as QboClient, realmId, i)),
    );

    const failed = results.filter((r) => r.status === 'rejected');
    assert.deepEqual(failed, [], 'every call succeeded');
    const after = await sim.counters();
    assert.equal(callsTo(after, 'token') - callsTo(before, 'token'), 1, 'one refresh reached Intuit');
    const [was, now] = [before[realmId]?.query?.statuses, after[realmId]?.query?.statuses];
    assert.equal(delta(now?.['401'], was?.['401']), 20, 'every call was refused once');
    assert.equal(delta(now?.['200'], was?.['200']), 20, 'and every call then succeeded');
  });

  it('a grant revoked at Intuit fails the calls with category auth, after which the realm sees no call at all', async () => {
    const realmId = sim.realmIds[1] ?? '';
    const grant = await storeGrant(sim, tokenService.client(), realmId);
    const client = replica(realmId, grant.connectionId);
    await customers(client, realmId, 0);
    await sim.revoke(realmId);

    const first = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => customers(client, realmId, i)),
    );
    const settled = await sim.counters();
    const later = [];
    for (let i = 0; i < 3; i++) later.push(await customers(client, realmId, i).catch((e: unknown) => e));

    for (const result of first) {
      assert.equal(result.status, 'rejected');
      const err = result.reason as unknown;
      assert.ok(isQboError(err), String(err));
      assert.equal(err.category, 'auth');
      assert.equal(err.code, 'reauthorization_required');
      const text = `${err.message} ${JSON.stringify(err)} ${String(err.stack)}`;
      assert.ok(!text.includes(grant.accessToken) && !text.includes(grant.refreshToken), 'no token in it');
    }
    for (const err of later) {
      assert.ok(isQboError(err), String(err));
      assert.equal(err.category, 'auth');
      assert.equal(err.code, 'reauthorization_required');
    }
    const end = await sim.counters();
    assert.equal(settled[realmId]?.query?.statuses['401'], 5, 'the five calls were refused by Intuit');
    assert.deepEqual(end[realmId], settled[realmId], 'nothing reached the simulator for the realm after it');
    assert.equal(callsTo(end, 'token'), callsTo(settled, 'token'), 'and no refresh was tried again');
  });
});
