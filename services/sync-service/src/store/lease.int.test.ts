import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testLogger } from '@qbo/event-bus/testing';
import { execute, type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { openSession, type SessionDeps } from '../sync/session.js';
import { acquireLease, FencedError, renewLease } from './lease.js';
import { migrations } from './migrations.js';
import { connectionUsable } from './projection.js';
import type { Em } from './sql.js';

const org = 'org-fenced';
const target = {
  orgId: org,
  realmId: '9130000000000077',
  connectionId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a77',
};
const TTL_MS = 300;

let db: TestDatabase;
let orm: MikroORM;
const tx = <T>(fn: (em: Em) => Promise<T>) => orm.em.fork().transactional((em) => fn(em as unknown as Em));

before(async () => {
  db = await createTestDatabase('sync_lease');
  orm = await openDatabase({ url: db.url, schema: 'sync', poolMax: 4, log: testLogger('sync'), migrations });
  await tx((em) => connectionUsable(em, { ...target, at: '2026-03-01T00:00:00Z' }, ['Customer']));
});

after(async () => {
  await orm?.close();
  await db?.drop();
});

/** A row a run's write would add (here a change notice), counted in the table afterwards. */
const written = async (id: string) =>
  (await db.query('select 1 from sync.change_notice where entity_id = $1', [id])).length;
const addRow = (em: Em, id: string) =>
  execute(
    em,
    `insert into change_notice (org_id, realm_id, entity, entity_id, operation, last_updated)
     values ($1, $2, 'Customer', $3, 'Update', now())`,
    [org, target.realmId, id],
  );

describe('the sync lease', () => {
  it("refuses a stale holder's write after another holder took the org over, and writes nothing of it", async () => {
    // Only the session's write() is used here: the calls and the feed are not.
    const deps = { orm, leaseTtlMs: TTL_MS } as unknown as SessionDeps;
    const first = await tx((em) => acquireLease(em, org, 'replica-a', TTL_MS));
    assert.ok(first, 'the first holder takes the free lease');
    assert.equal(
      await tx((em) => acquireLease(em, org, 'replica-b', TTL_MS)),
      undefined,
      'not while it is live',
    );

    const a = openSession(deps, target, first, 'run-a', []);
    await a.write((em) => addRow(em, 'by-a-before'));
    assert.equal(await written('by-a-before'), 1, 'the holder writes while it holds the lease');

    // The first holder stops (paused, partitioned) past its lease; the second takes the org over.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 100));
    const second = await tx((em) => acquireLease(em, org, 'replica-b', TTL_MS * 10));
    assert.ok(second && BigInt(second.fencingToken) > BigInt(first.fencingToken), 'a higher fencing token');

    let ran = false;
    await assert.rejects(
      a.write(async (em) => {
        ran = true;
        await addRow(em, 'by-a-after');
      }),
      (err) => err instanceof FencedError && (err as FencedError).code === 'lease_lost',
    );
    assert.equal(ran, false, "the stale holder's write never ran");
    assert.equal(await written('by-a-after'), 0, 'nothing of it reached the table');
    assert.equal(
      await tx((em) => renewLease(em, first, TTL_MS)),
      false,
      'its heartbeat finds the lease gone',
    );

    const b = openSession(deps, target, second, 'run-b', []);
    await b.write((em) => addRow(em, 'by-b'));
    assert.equal(await written('by-b'), 1, 'the new holder writes');
    const [row] = await db.query<{ holder: string; fencing_token: string }>(
      'select holder, fencing_token::text from sync.qbo_sync_sessions where org_id = $1',
      [org],
    );
    assert.deepEqual(row, { holder: 'replica-b', fencing_token: second.fencingToken });
  });
});
