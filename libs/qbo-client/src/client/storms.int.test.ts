import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase, uniqueName } from '@qbo/testkit';
import { qboApiLogMigrations } from '../api-log/migration.js';
import { mikroOrmApiLogStore } from '../api-log/sql-store.js';
import { type ApiLogWriter, createApiLogWriter } from '../api-log/writer.js';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createRedisBudgetStore } from '../budget/redis-store.js';
import { captureLog } from '../testing/capture-log.js';
import { testRedis } from '../testing/redis.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';
import { createQboClient, type QboClient } from './client.js';

const { log } = captureLog();
const redis = testRedis();
let sim: Simulator;
let db: TestDatabase;
let orm: MikroORM;
let writer: ApiLogWriter;
let client: QboClient;
let realmId: string;

interface Row {
  correlation_id: string;
  attempt: number;
  status: number;
  category: string | null;
  fault_code: string | null;
  budget_wait_ms: number;
  retry_delay_ms: number;
}

const rowsOf = async (operation: string) => {
  await writer.flush();
  return db.query<Row>(
    'select correlation_id, attempt, status, category, fault_code, budget_wait_ms, retry_delay_ms from qbo_client.qbo_api_log where operation = $1 order by id',
    [operation],
  );
};

before(async () => {
  sim = await createSimulator({ seed: { seed: 4, companies: 1, records: 100 } });
  realmId = sim.control.companies()[0]?.realmId ?? '';
  db = await createTestDatabase('qbo-client-storms');
  orm = await openDatabase({
    url: db.url,
    schema: 'qbo_client',
    poolMax: 2,
    log,
    migrations: [...qboApiLogMigrations],
  });
  writer = createApiLogWriter({ store: mikroOrmApiLogStore(orm), log });
  client = createQboClient({
    baseUrl: sim.url,
    tokens: createSimulatorTokenProvider({ url: sim.url, connections: [await connectRealm(sim, realmId)] }),
    budget: createBudget({
      store: createRedisBudgetStore({ redis, namespace: uniqueName('qbo-storms'), limits: budgetLimits() }),
    }),
    apiLog: writer,
    log,
    // Intuit's advised minute after a 429, scaled down so the test takes seconds.
    retry: { rateLimitDelayMs: 1_000, baseDelayMs: 100 },
  });
});

after(async () => {
  await writer.close();
  await orm.close();
  await db.drop();
  await sim.close();
  await redis.quit();
});

describe('fault storms', () => {
  it('completes every call through a 429 storm, pausing the realm, with the waits in the log', async () => {
    sim.control.addFault({ kind: '429', realmId, endpoint: 'query', times: 8 });
    const pages = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        client.query(
          realmId,
          { entity: 'Customer', maxResults: 3 },
          { orgId: 'org-1', correlationId: `q${i}` },
        ),
      ),
    );
    assert.ok(pages.every((p) => p.rows.length === 3));
    const rows = await rowsOf('query');
    assert.equal(rows.filter((r) => r.status === 429).length, 8);
    assert.ok(
      rows
        .filter((r) => r.status === 429)
        .every((r) => r.category === 'rate_limit' && r.fault_code === '3001'),
    );
    const retried = rows.filter((r) => r.status === 200 && r.attempt > 1);
    assert.ok(retried.length > 0);
    assert.ok(
      retried.every((r) => r.budget_wait_ms >= 500),
      `attempts after a 429 waited out the realm's pause: ${JSON.stringify(retried)}`,
    );
    assert.deepEqual(
      sim.control.counters()[realmId]?.query?.throttled,
      {},
      "Intuit's own limits never tripped",
    );
  });

  it('completes every call through a 503 storm, backing off, with the delays in the log', async () => {
    sim.control.addFault({ kind: '503', realmId, endpoint: 'read', times: 8 });
    const customers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        client.read(realmId, 'Customer', String(i + 1), { orgId: 'org-1', correlationId: `r${i}` }),
      ),
    );
    assert.deepEqual(
      customers.map((c) => c.Id),
      ['1', '2', '3', '4', '5', '6'],
    );
    const rows = await rowsOf('read');
    assert.equal(rows.filter((r) => r.status === 503).length, 8);
    assert.ok(rows.filter((r) => r.status === 503).every((r) => r.category === 'server'));
    const retried = rows.filter((r) => r.attempt > 1);
    assert.ok(retried.length >= 2);
    assert.ok(
      retried.every((r) => r.retry_delay_ms >= 50),
      `backoff recorded: ${JSON.stringify(retried)}`,
    );
  });
});
