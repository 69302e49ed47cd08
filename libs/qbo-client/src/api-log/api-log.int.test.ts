import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { captureLog } from '../testing/capture-log.js';
import { qboApiLogMigrations } from './migration.js';
import type { ApiLogRow } from './row.js';
import { mikroOrmApiLogStore } from './sql-store.js';
import { createApiLogWriter } from './writer.js';

const { log } = captureLog();
let db: TestDatabase;
let orm: MikroORM;

before(async () => {
  db = await createTestDatabase('qbo-api-log');
  orm = await openDatabase({
    url: db.url,
    schema: 'sync_svc',
    poolMax: 2,
    log,
    migrations: [...qboApiLogMigrations],
  });
});

after(async () => {
  await orm.close();
  await db.drop();
});

const row = (i: number, overrides: Partial<ApiLogRow> = {}): ApiLogRow => ({
  at: new Date('2026-03-01T12:00:00.123Z'),
  orgId: 'org-1',
  realmId: '9130000000000001',
  operation: 'query',
  method: 'GET',
  path: '/v3/company/9130000000000001/query',
  query: "query=SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien'&minorversion=75",
  entityType: 'Customer',
  entityId: null,
  status: 200,
  faultCode: null,
  category: null,
  intuitTid: `1-${i}`,
  attempt: 1,
  budgetWaitMs: 12,
  retryDelayMs: 0,
  durationMs: 40,
  requestBytes: 0,
  responseBytes: 5_120,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  correlationId: 'run-1',
  callId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  ...overrides,
});

describe('qbo_api_log', () => {
  it("is created by the service's migrations in the service's own schema", async () => {
    const tables = await db.query<{ table_schema: string }>(
      "select table_schema from information_schema.tables where table_name = 'qbo_api_log'",
    );
    assert.deepEqual(tables, [{ table_schema: 'sync_svc' }]);
  });

  it('stores every column of every row the writer was given, in batches', async () => {
    const writer = createApiLogWriter({ store: mikroOrmApiLogStore(orm), log, maxBatch: 7 });
    for (let i = 0; i < 20; i++) writer.write(row(i));
    writer.write(
      row(20, {
        status: null,
        faultCode: 'ECONNRESET',
        category: 'network',
        responseBytes: null,
        traceId: null,
        spanId: null,
        attempt: 2,
      }),
    );
    await writer.close();
    const rows = await db.query('select * from sync_svc.qbo_api_log order by id');
    assert.equal(rows.length, 21);
    const { id: _id, ...first } = rows[0] as Record<string, unknown>;
    assert.deepEqual(first, {
      at: new Date('2026-03-01T12:00:00.123Z'),
      org_id: 'org-1',
      realm_id: '9130000000000001',
      operation: 'query',
      method: 'GET',
      path: '/v3/company/9130000000000001/query',
      query: "query=SELECT * FROM Customer WHERE DisplayName = 'O\\'Brien'&minorversion=75",
      entity_type: 'Customer',
      entity_id: null,
      status: 200,
      fault_code: null,
      category: null,
      intuit_tid: '1-0',
      call_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      attempt: 1,
      budget_wait_ms: 12,
      retry_delay_ms: 0,
      duration_ms: 40,
      request_bytes: 0,
      response_bytes: 5_120,
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      correlation_id: 'run-1',
    });
    const last = rows[20] as Record<string, unknown>;
    assert.deepEqual(
      [last.status, last.fault_code, last.response_bytes, last.attempt],
      [null, 'ECONNRESET', null, 2],
    );
  });
});
