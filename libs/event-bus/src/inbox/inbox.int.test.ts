import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { openTestStore, testSchema } from '../testing/store.js';
import { createInbox } from './inbox.js';

describe('inbox', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  before(async () => {
    db = await createTestDatabase('inbox');
    orm = await openTestStore(db);
  });
  after(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it('claims an event once per group, and prunes only its own group older than the date', async () => {
    const views = createInbox({ schema: testSchema, group: 'status-view' });
    const other = createInbox({ schema: testSchema, group: 'other' });
    const [old, recent] = [randomUUID(), randomUUID()];
    const claim = (inbox: typeof views, id: string) =>
      orm.em.fork().transactional((em) => inbox.claim(em, id));
    assert.equal(await claim(views, old), true);
    assert.equal(await claim(views, old), false, 'a redelivery is seen');
    assert.equal(await claim(other, old), true, 'another group has its own record');
    assert.equal(await claim(views, recent), true);
    await db.query(
      `update ${testSchema}.inbox set processed_at = now() - interval '10 days' where event_id = $1`,
      [old],
    );

    const pruned = await views.prune(orm.em.fork(), new Date(Date.now() - 86_400_000));
    assert.equal(pruned, 1);
    const left = await db.query<{ consumer_group: string; event_id: string }>(
      `select consumer_group, event_id from ${testSchema}.inbox order by consumer_group, event_id`,
    );
    assert.deepEqual(
      left.map((r) => `${r.consumer_group}:${r.event_id}`).sort(),
      [`other:${old}`, `status-view:${recent}`].sort(),
    );
  });
});
