/**
 * Prints the latency of a cached access-token request (real HTTP to the service as its own process) and
 * the refresh throughput across 1,000 connections, both through the scheduler and through concurrent
 * compare-and-refresh requests. The simulator (limits off) plays Intuit in this process.
 *   npm run bench -w services/token-service [-- <connections>]
 */
import { createSimulator } from '@qbo/qbo-simulator';
import { connect } from '@qbo/qbo-simulator/testing';
import { createTestDatabase, waitFor } from '@qbo/testkit';
import { storeRequestFor } from '@qbo/token-api/testing';
import { clientFor, createBus, key, serviceEnv, startChild, tokenCalls } from '../testing/harness.js';

const print = (line: string) => process.stdout.write(`${line}\n`);
const connections = Number(process.argv[2] ?? 1000);
const cachedRequests = 20_000;
const concurrency = 16;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

const db = await createTestDatabase('token_bench');
const bus = await createBus();
const sim = await createSimulator({
  consent: 'auto',
  seed: { seed: 9, companies: 1, records: 0 },
  limits: { enabled: false },
});
const proc = await startChild(
  serviceEnv(
    { db, bus, sim, close: async () => {} },
    {
      TOKEN_KEYS: `k1:${key()}`,
      TOKEN_ACTIVE_KEY_ID: 'k1',
      DATABASE_POOL_MAX: '20',
      SCHEDULER_INTERVAL_MS: '100',
      SCHEDULER_BATCH_SIZE: '200',
      SCHEDULER_CONCURRENCY: '16',
    },
  ),
);
const client = clientFor(proc.url);
const realmId = sim.control.companies()[0]?.realmId ?? '';

try {
  let t = performance.now();
  const ids = await pool(connections, 16, async (i) => {
    const tokens = await connect(sim, realmId);
    const id = crypto.randomUUID();
    const now = sim.control.clock.now();
    await client.storeCredentials(
      id,
      storeRequestFor({ ...tokens, realmId }, { orgId: `bench-org-${i % 50}`, now }),
    );
    return { id, accessToken: tokens.accessToken };
  });
  print(`stored ${connections} connections in ${Math.round(performance.now() - t)} ms`);

  const first = ids[0];
  if (!first) throw new Error('no connection');
  for (let i = 0; i < 500; i++) await client.getAccessToken(first.id); // warm-up
  for (const width of [1, concurrency]) {
    const n = width === 1 ? cachedRequests / 4 : cachedRequests;
    const latencies: number[] = [];
    t = performance.now();
    await pool(n, width, async () => {
      const s = performance.now();
      await client.getAccessToken(first.id);
      latencies.push(performance.now() - s);
    });
    const elapsed = performance.now() - t;
    latencies.sort((x, y) => x - y);
    print(
      `cached access token (HTTP, ${width} concurrent, ${n} requests): ` +
        `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, ` +
        `${Math.round(n / (elapsed / 1000))} req/s`,
    );
  }

  // Scheduler: every connection due now.
  let calls = tokenCalls(sim);
  t = performance.now();
  await db.query(`update token.credential set next_refresh_at = now() - interval '1 second'`);
  await waitFor(
    async () => {
      const [row] = await db.query<{ n: number }>(
        'select count(*)::int as n from token.credential where credential_version >= 2',
      );
      return (row?.n ?? 0) >= connections;
    },
    { timeoutMs: 120_000, intervalMs: 20, what: 'every connection refreshed by the scheduler' },
  );
  let seconds = (performance.now() - t) / 1000;
  print(
    `scheduler: ${connections} refreshes in ${seconds.toFixed(2)} s = ${Math.round(connections / seconds)} refreshes/s ` +
      `(${tokenCalls(sim) - calls} token calls at the simulator)`,
  );

  // Requests: one compare-and-refresh per connection, 64 at a time.
  const current = await pool(connections, 32, async (i) => client.getAccessToken(ids[i]?.id ?? ''));
  calls = tokenCalls(sim);
  t = performance.now();
  await pool(connections, 64, async (i) =>
    client.refreshAfterRejection(ids[i]?.id ?? '', current[i]?.accessToken ?? ''),
  );
  seconds = (performance.now() - t) / 1000;
  print(
    `compare-and-refresh requests: ${connections} refreshes in ${seconds.toFixed(2)} s = ` +
      `${Math.round(connections / seconds)} refreshes/s (${tokenCalls(sim) - calls} token calls)`,
  );
} finally {
  await proc.stop();
  await sim.close();
  await db.drop();
}
