/**
 * One replica hammering one realm, run as its own process by the fleet test: CALLS reads with CONCURRENCY
 * workers, through a client whose budget lives in the shared Redis namespace. Prints one 'hammer done' line.
 */
import { createLogger } from '@qbo/service-kit';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createRedisBudgetStore } from '../budget/redis-store.js';
import { createQboClient } from '../client/client.js';
import { isQboError } from '../errors.js';
import { memorySink } from './memory-sink.js';
import { testRedis } from './redis.js';
import { createSimulatorTokenProvider } from './simulator-tokens.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const log = createLogger({ service: 'qbo-hammer', level: 'warn' });
const redis = testRedis();
const realmId = env('REALM_ID');
const calls = Number(env('CALLS'));
const sink = memorySink();
const client = createQboClient({
  baseUrl: env('SIM_URL'),
  tokens: createSimulatorTokenProvider({
    url: env('SIM_URL'),
    connections: [{ realmId, accessToken: env('ACCESS_TOKEN'), refreshToken: env('REFRESH_TOKEN') }],
  }),
  budget: createBudget({
    store: createRedisBudgetStore({
      redis,
      namespace: env('NAMESPACE'),
      limits: budgetLimits({ perMinute: Number(env('PER_MINUTE')) }),
    }),
  }),
  apiLog: sink,
  log,
});

let next = 0;
let ok = 0;
const failures: string[] = [];
async function worker(): Promise<void> {
  while (next < calls) {
    const i = next++;
    try {
      await client.read(realmId, 'Customer', String((i % 50) + 1), {
        orgId: 'org-fleet',
        correlationId: env('LABEL'),
      });
      ok++;
    } catch (err) {
      failures.push(isQboError(err) ? `${err.category}/${err.code}` : String(err));
    }
  }
}

await Promise.all(Array.from({ length: Number(env('CONCURRENCY')) }, worker));
log.warn(
  {
    label: env('LABEL'),
    ok,
    failures,
    attempts: sink.rows.length,
    maxBudgetWaitMs: Math.max(0, ...sink.rows.map((r) => r.budgetWaitMs)),
  },
  'hammer done',
);
await redis.quit();
