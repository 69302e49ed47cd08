import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { startProcess, uniqueName } from '@qbo/testkit';
import { createQboClient } from '../client/client.js';
import { captureLog } from '../testing/capture-log.js';
import { memorySink } from '../testing/memory-sink.js';
import { testRedis, testRedisUrl } from '../testing/redis.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';
import { createBudget } from './budget.js';
import { budgetLimits } from './limits.js';
import { createRedisBudgetStore } from './redis-store.js';

const hammer = fileURLToPath(new URL('../testing/hammer.js', import.meta.url));
const redis = testRedis();
let sim: Simulator;

/**
 * Intuit's minute limit scaled down to 60 (here and in the simulator) so crossing the rolling minute takes
 * one minute of test rather than several; the per-second and in-flight limits are Intuit's own 10 and 10.
 */
const PER_MINUTE = 60;
const CALLS_PER_PROCESS = 40;

before(async () => {
  sim = await createSimulator({ seed: { seed: 21, companies: 2, records: 200 } });
  sim.control.setLimits({ perMinutePerRealm: PER_MINUTE });
});

after(async () => {
  await sim.close();
  await redis.quit();
});

describe('one budget for the fleet', () => {
  it('keeps two processes hammering one realm within every limit while another realm runs freely', {
    timeout: 150_000,
  }, async (t) => {
    const [busy, idle] = sim.control.companies().map((c) => c.realmId) as [string, string];
    const namespace = uniqueName('qbo-fleet');
    const busyTokens = await connectRealm(sim, busy);
    // Slow answers for the first calls, so the in-flight limit is what holds the processes back at first.
    sim.control.addFault({ kind: 'latency', latencyMs: 1_500, realmId: busy, endpoint: 'read', times: 25 });

    let maxInFlight = 0;
    const watch = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, sim.control.inFlight(busy));
    }, 10);
    const started = Date.now();
    const processes = await Promise.all(
      ['a', 'b'].map((label) =>
        startProcess({
          entry: hammer,
          waitForStart: false,
          env: {
            SIM_URL: sim.url,
            REDIS_URL: testRedisUrl(),
            NAMESPACE: namespace,
            REALM_ID: busy,
            ACCESS_TOKEN: busyTokens.accessToken,
            REFRESH_TOKEN: busyTokens.refreshToken,
            CALLS: String(CALLS_PER_PROCESS),
            CONCURRENCY: '12',
            PER_MINUTE: String(PER_MINUTE),
            LABEL: label,
          },
        }),
      ),
    );

    // While the busy realm has used its minute and its calls wait, the idle realm's calls go straight through.
    await waitUntil(() => (sim.control.counters()[busy]?.read?.calls ?? 0) >= 50, 60_000);
    const sink = memorySink();
    const idleClient = createQboClient({
      baseUrl: sim.url,
      tokens: createSimulatorTokenProvider({ url: sim.url, connections: [await connectRealm(sim, idle)] }),
      budget: createBudget({
        store: createRedisBudgetStore({ redis, namespace, limits: budgetLimits({ perMinute: PER_MINUTE }) }),
      }),
      apiLog: sink,
      log: captureLog().log,
    });
    const idleStarted = Date.now();
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        idleClient.read(idle, 'Customer', String(i + 1), { orgId: 'org-idle', correlationId: 'idle' }),
      ),
    );
    const idleMs = Date.now() - idleStarted;

    const codes = await Promise.all(processes.map((p) => p.exited));
    clearInterval(watch);
    const elapsed = Date.now() - started;
    assert.deepEqual(codes, [0, 0], processes.map((p) => p.output()).join('\n'));
    const reports = processes.map((p) => p.logs.find((l) => l.msg === 'hammer done'));
    for (const report of reports) {
      assert.ok(report, processes.map((p) => p.output()).join('\n'));
      assert.equal(report.ok, CALLS_PER_PROCESS, JSON.stringify(report));
      assert.deepEqual(report.failures, []);
    }

    t.diagnostic(
      JSON.stringify({
        elapsedMs: elapsed,
        maxInFlight,
        busyMaxBudgetWaitMs: reports.map((r) => r?.maxBudgetWaitMs),
        idleMs,
        idleBudgetWaitsMs: sink.rows.map((r) => r.budgetWaitMs),
      }),
    );
    const busyCounts = sim.control.counters()[busy]?.read;
    assert.equal(busyCounts?.calls, 2 * CALLS_PER_PROCESS, 'every call reached the simulator once');
    assert.deepEqual(busyCounts?.statuses, { '200': 2 * CALLS_PER_PROCESS }, 'no call was throttled');
    assert.deepEqual(busyCounts?.throttled, {}, 'no per-minute, per-second or in-flight limit was exceeded');
    assert.ok(maxInFlight <= 10 && maxInFlight >= 5, `in flight at most ${maxInFlight}`);
    assert.ok(elapsed >= 60_000, `80 calls over a 60-per-minute limit took ${elapsed} ms: the window held`);
    assert.ok(
      reports.some((r) => Number(r?.maxBudgetWaitMs) > 20_000),
      'the busy realm waited for its rolling minute',
    );

    assert.deepEqual(sim.control.counters()[idle]?.read?.throttled, {});
    assert.ok(
      sink.rows.every((r) => r.budgetWaitMs < 300),
      `idle realm waits: ${sink.rows.map((r) => r.budgetWaitMs)}`,
    );
    assert.ok(idleMs < 2_000, `the idle realm's calls took ${idleMs} ms`);
  });
});

async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the busy realm');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
