import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { uniqueName } from '@qbo/testkit';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createRedisBudgetStore } from '../budget/redis-store.js';
import { captureLog } from '../testing/capture-log.js';
import { memorySink } from '../testing/memory-sink.js';
import { testRedis } from '../testing/redis.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';
import type { TokenProvider } from '../tokens.js';
import { createQboClient } from './client.js';

const redis = testRedis();
let sim: Simulator;
let realmId: string;

before(async () => {
  sim = await createSimulator({ seed: { seed: 3, companies: 1, records: 200 } });
  // This test is about the token, not the budget: all hundred calls must be in flight at once.
  sim.control.setLimits({ enabled: false });
  realmId = sim.control.companies()[0]?.realmId ?? '';
});

after(async () => {
  await sim.close();
  await redis.quit();
});

function client(tokens: TokenProvider) {
  const sink = memorySink();
  const qbo = createQboClient({
    baseUrl: sim.url,
    tokens,
    budget: createBudget({
      store: createRedisBudgetStore({
        redis,
        namespace: uniqueName('qbo-token-reload'),
        limits: budgetLimits({ perMinute: 10_000, perSecond: 10_000, concurrent: 1_000 }),
      }),
    }),
    apiLog: sink,
    log: captureLog().log,
  });
  return { qbo, sink };
}

/** What the simulator counted for the realm since the last reset: refresh requests at its token endpoint, reads. */
function counted() {
  const counters = sim.control.counters()[realmId];
  return { refreshes: counters?.token?.calls ?? 0, reads: counters?.read?.statuses ?? {} };
}

describe('token reload', () => {
  it('answers a 401 seen by 100 concurrent callers with exactly one refresh request', async () => {
    const tokens = createSimulatorTokenProvider({
      url: sim.url,
      connections: [await connectRealm(sim, realmId)],
    });
    const { qbo, sink } = client(tokens);
    sim.control.expireAccessTokens(realmId);
    sim.control.resetCounters();

    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        qbo.read(realmId, 'Customer', String((i % 50) + 1), { orgId: 'org-1', correlationId: `caller-${i}` }),
      ),
    );

    assert.equal(results.length, 100);
    const { refreshes, reads } = counted();
    assert.equal(refreshes, 1, 'one refresh request reached Intuit');
    assert.equal(reads['401'], 100, 'every caller was rejected once');
    assert.equal(reads['200'], 100, 'and every caller then succeeded');
    assert.deepEqual(
      [...new Set(sink.rows.filter((r) => r.status === 200).map((r) => r.attempt))],
      [2],
      'each success was the second attempt',
    );
  });

  it('asks its token provider to refresh once per rejected call', async () => {
    // No compare-and-refresh in the provider: each refreshAfterRejection the client makes reaches Intuit, so
    // the simulator's token endpoint counts them.
    const tokens = createSimulatorTokenProvider({
      url: sim.url,
      connections: [await connectRealm(sim, realmId)],
      compareAndRefresh: false,
    });
    const { qbo } = client(tokens);
    sim.control.expireAccessTokens(realmId);
    sim.control.resetCounters();

    await qbo.read(realmId, 'Customer', '1', { orgId: 'org-1' });

    const { refreshes, reads } = counted();
    assert.equal(refreshes, 1, 'one refresh request reached Intuit');
    assert.deepEqual(reads, { '401': 1, '200': 1 });
  });
});
