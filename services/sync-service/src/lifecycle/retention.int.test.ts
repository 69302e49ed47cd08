import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { migrations } from '../store/migrations.js';
import { createRetention } from './retention.js';

const DAY_MS = 86_400_000;
const log = createLogger({ service: 'retention-test', level: 'silent' });
let db: TestDatabase;
let orm: MikroORM;

before(async () => {
  db = await createTestDatabase('sync_retention');
  orm = await openDatabase({ url: db.url, schema: 'sync', poolMax: 2, log: log, migrations });
});

after(async () => {
  await orm?.close();
  await db?.drop();
});

/** Rows aged `days` days: an API call, a finished run with its entity row, a resolved and an open error. */
async function rowsAged(days: number, tag: string) {
  const at = new Date(Date.now() - days * DAY_MS).toISOString();
  await db.query(
    `insert into sync.qbo_api_log (at, org_id, realm_id, operation, method, path, attempt, budget_wait_ms,
       retry_delay_ms, duration_ms, request_bytes, correlation_id)
     values ($1, 'org-r', 'realm-r', 'query', 'GET', '/query', 1, 0, 0, 5, 10, $2)`,
    [at, tag],
  );
  const [run] = await db.query<{ run_id: string }>(
    `insert into sync.sync_run (run_id, org_id, realm_id, connection_id, trigger, mode, entities, status, started_at,
       finished_at)
     values (gen_random_uuid(), 'org-r', 'realm-r', gen_random_uuid(), 'schedule', 'cdc', '{Customer}', 'completed', $1, $1)
     returning run_id::text`,
    [at],
  );
  await db.query(`insert into sync.sync_run_entity (run_id, entity) values ($1, 'Customer')`, [run?.run_id]);
  for (const open of [false, true]) {
    await db.query(
      `insert into sync.sync_error (org_id, realm_id, entity, record_key, category, code, first_run_id, last_run_id,
         first_seen_at, last_seen_at, resolved_at)
       values ('org-r', 'realm-r', 'Customer', $1, 'validation', '4002', $2, $2, $3, $3, $4)`,
      [`${tag}-${open ? 'open' : 'resolved'}`, run?.run_id, at, open ? null : at],
    );
  }
}

const count = async (sql: string) => Number((await db.query<{ n: string }>(sql))[0]?.n);

describe('retention', () => {
  it('deletes API calls, finished runs and resolved errors past their own retention, in batches, and keeps the rest', async () => {
    await rowsAged(40, 'old');
    await rowsAged(40, 'old2');
    await rowsAged(40, 'old3');
    await rowsAged(10, 'recent');
    const prune = createRetention({
      orm,
      log: log,
      batchSize: 2,
      settings: { apiLogMs: 30 * DAY_MS, runMs: 20 * DAY_MS, errorMs: 5 * DAY_MS },
    });
    const deleted = await prune();
    assert.deepEqual(deleted, { apiCalls: 3, runs: 3, errors: 4 });
    assert.equal(await count('select count(*) as n from sync.qbo_api_log'), 1, 'the recent call stays');
    assert.equal(await count('select count(*) as n from sync.sync_run'), 1, 'the runs past 20 days go');
    assert.equal(await count('select count(*) as n from sync.sync_run_entity'), 1, 'with their entity rows');
    assert.deepEqual(
      (
        await db.query<{ record_key: string }>('select record_key from sync.sync_error order by record_key')
      ).map((r) => r.record_key),
      ['old-open', 'old2-open', 'old3-open', 'recent-open'],
      'open errors stay whatever their age',
    );
    assert.deepEqual(await prune(), { apiCalls: 0, runs: 0, errors: 0 }, 'a second turn finds nothing');
  });
});
