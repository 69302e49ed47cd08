/**
 * Benchmark: what the client adds to each call, against a bare fetch to the same simulator in the same run.
 * The simulator runs as its own process with Intuit's limits off and the budget's limits raised, so no call
 * ever waits for budget: what is measured is the client's own cost (budget round trip, span, API log row,
 * parsing, bookkeeping), not Intuit's pacing.
 *   node_modules/.bin/node libs/qbo-client/dist/bench/overhead.js [calls per mode]
 * Modes run interleaved in rounds of 100 calls, so drift on a busy machine hits them alike. Needs Redis and
 * Postgres (for the production-shaped mode).
 */
import { connect as connectRealm, startSimulatorProcess } from '@qbo/qbo-simulator/testing';
import { createLogger, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, uniqueName } from '@qbo/testkit';
import { qboApiLogMigrations } from '../api-log/migration.js';
import { mikroOrmApiLogStore } from '../api-log/sql-store.js';
import { createApiLogWriter } from '../api-log/writer.js';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import { createRedisBudgetStore } from '../budget/redis-store.js';
import { createQboClient } from '../client/client.js';
import { testRedis } from '../testing/redis.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';

const callsPerMode = Number(process.argv[2] ?? 3_000);
const ROUND = 100;
const out = (line: string) => process.stdout.write(`${line}\n`);
const log = createLogger({ service: 'qbo-client-bench', level: 'warn' });

const simulator = await startSimulatorProcess([
  '--port',
  '0',
  '--seed',
  '1',
  '--companies',
  '1',
  '--records',
  '200',
  '--no-limits',
  '--consent',
  'auto',
]);
const { url } = simulator;

const redis = testRedis();
const db = await createTestDatabase('qbo-client-bench');
try {
  const connection = await connectRealm({ url });
  const { realmId, accessToken } = connection;
  const tokens = createSimulatorTokenProvider({ url, connections: [connection] });
  const roomy = budgetLimits({
    perMinute: 10_000_000,
    perSecond: 10_000_000,
    concurrent: 1_000,
    marginMs: 0,
  });
  const orm = await openDatabase({
    url: db.url,
    schema: 'bench',
    poolMax: 2,
    log,
    migrations: [...qboApiLogMigrations],
  });
  const writer = createApiLogWriter({ store: mikroOrmApiLogStore(orm), log });

  const lean = createQboClient({
    baseUrl: url,
    tokens,
    budget: createBudget({ store: createMemoryBudgetStore(roomy) }),
    log,
  });
  const fleet = createQboClient({
    baseUrl: url,
    tokens,
    budget: createBudget({
      store: createRedisBudgetStore({ redis, namespace: uniqueName('qbo-bench'), limits: roomy }),
    }),
    apiLog: writer,
    log,
  });
  const ctx = { orgId: 'org-bench', correlationId: 'bench' };
  const readUrl = `${url}/v3/company/${realmId}/customer/1?minorversion=75`;
  const modes: Record<string, () => Promise<unknown>> = {
    'bare fetch': async () => {
      const response = await fetch(readUrl, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      });
      return response.json();
    },
    'client, in-memory budget': () => lean.read(realmId, 'Customer', '1', ctx),
    'client, Redis budget + Postgres api log': () => fleet.read(realmId, 'Customer', '1', ctx),
  };

  const samples = new Map<string, number[]>(Object.keys(modes).map((m) => [m, []]));
  for (const run of Object.values(modes)) for (let i = 0; i < 200; i++) await run();
  for (let done = 0; done < callsPerMode; done += ROUND) {
    for (const [name, run] of Object.entries(modes)) {
      const list = samples.get(name) as number[];
      for (let i = 0; i < ROUND; i++) {
        const t0 = performance.now();
        await run();
        list.push(performance.now() - t0);
      }
    }
  }
  await writer.close();

  const stats = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
    return { mean: list.reduce((a, b) => a + b, 0) / list.length, p50: at(0.5), p99: at(0.99) };
  };
  const bare = stats(samples.get('bare fetch') as number[]);
  const us = (ms: number) => `${(ms * 1000).toFixed(0).padStart(6)} µs`;
  out(`one read of Customer 1, ${callsPerMode} sequential calls per mode, simulator in its own process`);
  out(
    `${'mode'.padEnd(42)}${'mean'.padStart(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}  overhead (mean / p50)`,
  );
  for (const [name, list] of samples) {
    const s = stats(list);
    const overhead = name === 'bare fetch' ? '' : `  ${us(s.mean - bare.mean)} / ${us(s.p50 - bare.p50)}`;
    out(`${name.padEnd(42)}${us(s.mean)}${us(s.p50)}${us(s.p99)}${overhead}`);
  }
  const logged = await db.query<{ n: number }>('select count(*)::int as n from bench.qbo_api_log');
  out(`api log rows written off the call path: ${logged[0]?.n}`);
  await orm.close();
} finally {
  await db.drop();
  await redis.quit();
  await simulator.stop();
}
