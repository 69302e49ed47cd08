import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { qboApiLogMigrations } from '../api-log/migration.js';
import { mikroOrmApiLogStore } from '../api-log/sql-store.js';
import { type ApiLogWriter, createApiLogWriter } from '../api-log/writer.js';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import { type Category, isQboError, type QboError } from '../errors.js';
import { captureLog } from '../testing/capture-log.js';
import { createSimulatorTokenProvider, type SimulatorTokens } from '../testing/simulator-tokens.js';
import { createQboClient, type QboClient, type QboClientOptions } from './client.js';

const captured = captureLog();
const spans = new InMemorySpanExporter();
const tracer = new TracerProvider({
  spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
}).getTracer('test');
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

let sim: Simulator;
let db: TestDatabase;
let orm: MikroORM;
let writer: ApiLogWriter;
let main: SimulatorTokens;
let other: SimulatorTokens;
let revoked: SimulatorTokens;
let tokens: ReturnType<typeof createSimulatorTokenProvider>;
const seenTokens = new Set<string>();
const errors: unknown[] = [];
const ctx = { orgId: 'org-errors', correlationId: 'run-errors' };

// One budget for every client in the file, as one process shares one: separate budgets would overrun Intuit's limits.
const budget = createBudget({ store: createMemoryBudgetStore(budgetLimits()) });

function clientWith(overrides: Partial<QboClientOptions> = {}): QboClient {
  return createQboClient({
    baseUrl: sim.url,
    tokens,
    budget,
    apiLog: writer,
    log: captured.log,
    tracer,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, rateLimitDelayMs: 50 },
    ...overrides,
  });
}

/** Runs the call, expects it to fail with a QboError, and keeps the error for the secrets check. */
async function failure(run: () => Promise<unknown>): Promise<QboError> {
  try {
    await run();
  } catch (err) {
    errors.push(err);
    assert.ok(isQboError(err), `expected a QboError, got ${inspect(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

function expectCategory(err: QboError, category: Category, code: string | RegExp, attempts: number) {
  assert.equal(err.category, category);
  if (typeof code === 'string') assert.equal(err.code, code);
  else assert.match(err.code, code);
  assert.equal(err.attempts, attempts);
  assert.equal(err.retryable, ['rate_limit', 'server', 'network', 'timeout'].includes(category));
  assert.ok(err.remediation.length > 20);
}

before(async () => {
  sim = await createSimulator({ seed: { seed: 9, companies: 3, records: 100 }, requestTimeoutMs: 400 });
  const [a, b, c] = sim.control.companies().map((x) => x.realmId);
  main = await connectRealm(sim, a ?? '');
  other = await connectRealm(sim, b ?? '');
  revoked = await connectRealm(sim, c ?? '');
  for (const t of [main, other, revoked]) {
    seenTokens.add(t.accessToken);
    seenTokens.add(t.refreshToken);
  }
  tokens = createSimulatorTokenProvider({
    url: sim.url,
    // The second company is called with the first company's token: Intuit answers 403.
    connections: [main, { ...other, accessToken: main.accessToken }, revoked],
  });
  db = await createTestDatabase('qbo-client-errors');
  orm = await openDatabase({
    url: db.url,
    schema: 'qbo_client',
    poolMax: 2,
    log: captured.log,
    migrations: [...qboApiLogMigrations],
  });
  writer = createApiLogWriter({ store: mikroOrmApiLogStore(orm), log: captured.log, flushIntervalMs: 100 });
});

beforeEach(() => sim.control.clearFaults());

after(async () => {
  await writer.close();
  await orm.close();
  await db.drop();
  await sim.close();
});

describe('error taxonomy against the simulator', () => {
  it('files a dead grant under auth after one reload attempt', async () => {
    sim.control.revokeRealm(revoked.realmId);
    const err = await failure(() => clientWith().read(revoked.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'auth', 'invalid_grant', 1);
  });

  it('files a token that is not valid for the company under permission', async () => {
    const err = await failure(() => clientWith().read(other.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'permission', '3100', 1);
  });

  it('files throttling under rate_limit after pausing and retrying', async () => {
    sim.control.addFault({ kind: '429', realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'rate_limit', '3001', 2);
  });

  it('files a rejected request body under validation, without retrying', async () => {
    const err = await failure(() => clientWith().create(main.realmId, 'Customer', { Bogus: 1 }, ctx));
    expectCategory(err, 'validation', '2010', 1);
  });

  it('files an unknown record under not_found, naming it', async () => {
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '999999', ctx));
    expectCategory(err, 'not_found', '610', 1);
    assert.deepEqual([err.entityType, err.entityId, err.operation], ['Customer', '999999', 'read']);
  });

  it('files a stale SyncToken under conflict', async () => {
    const err = await failure(() =>
      clientWith().update(main.realmId, 'Customer', { Id: '3', SyncToken: '999', Notes: 'x' }, ctx),
    );
    expectCategory(err, 'conflict', '5010', 1);
    assert.equal(err.entityId, '3');
  });

  it('files a SystemFault under server after backing off', async () => {
    sim.control.addFault({ kind: '500', realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'server', '10000', 2);
  });

  it("names the failed call: the error's callId is the call_id of each of its attempts' qbo_api_log rows", async () => {
    sim.control.addFault({ kind: '500', realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '2', ctx));
    assert.match(err.callId ?? '', /^[0-9a-f-]{36}$/);
    await writer.flush();
    const rows = await db.query<{ attempt: number; status: number; intuit_tid: string | null }>(
      'select attempt, status, intuit_tid from qbo_client.qbo_api_log where call_id = $1 order by attempt',
      [err.callId],
    );
    assert.deepEqual(
      rows.map((r) => [r.attempt, r.status]),
      [
        [1, 500],
        [2, 500],
      ],
    );
    assert.equal(rows[1]?.intuit_tid, err.intuitTid ?? null);
  });

  it('files a dropped connection under network', async () => {
    sim.control.addFault({ kind: 'drop', realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'network', /^[A-Z_]+$/, 2);
  });

  it("files Intuit's gateway timeout under timeout", async () => {
    sim.control.addFault({ kind: 'timeout', realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith().read(main.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'timeout', '504', 2);
  });

  it('files an answer slower than the client allows under timeout', async () => {
    sim.control.addFault({ kind: 'latency', latencyMs: 300, realmId: main.realmId, endpoint: 'read' });
    const err = await failure(() => clientWith({ timeoutMs: 100 }).read(main.realmId, 'Customer', '1', ctx));
    expectCategory(err, 'timeout', 'ETIMEDOUT', 2);
  });

  it('reloads an expired token once and succeeds', async () => {
    sim.control.expireAccessTokens(main.realmId);
    const customer = await clientWith().read(main.realmId, 'Customer', '1', ctx);
    assert.equal(customer.Id, '1');
    seenTokens.add(await tokens.getAccessToken(main.realmId));
  });

  it('keeps every token, secret and Authorization header out of the API log, logs, errors and spans', async () => {
    await writer.flush();
    const rows = await db.query('select * from qbo_client.qbo_api_log');
    assert.ok(rows.length >= 15, `${rows.length} rows logged`);
    assert.ok(rows.some((r) => r.status === 401) && rows.some((r) => r.status === 403));
    assert.ok(errors.length >= 10);
    const places: Record<string, string> = {
      qbo_api_log: JSON.stringify(rows),
      logs: captured.text(),
      errors: errors.map((e) => `${inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`).join('\n'),
      spans: inspect(
        spans.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
        { depth: 10 },
      ),
    };
    assert.ok(captured.lines().some((l) => l.msg === 'qbo call failed'));
    const secrets = [
      ...seenTokens,
      'sim-client-secret',
      Buffer.from('sim-client-id:sim-client-secret').toString('base64'),
    ];
    for (const [place, text] of Object.entries(places)) {
      assert.ok(text.length > 100, `${place} holds something to check`);
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret appears in ${place}`);
      assert.doesNotMatch(text, /Bearer\s+[A-Za-z0-9]/, `a bearer credential appears in ${place}`);
      assert.doesNotMatch(text, /"authorization"/i, `an Authorization header appears in ${place}`);
    }
  });
});
