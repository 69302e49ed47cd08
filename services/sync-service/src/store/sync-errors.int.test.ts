import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testLogger } from '@qbo/event-bus/testing';
import { type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import type { PoisonedRecord } from '../sync/poison.js';
import { migrations } from './migrations.js';
import type { Em } from './sql.js';
import { closeNamedPlace, lonePlaces, recordPoisoned, runErrorCount } from './sync-errors.js';

const target = {
  orgId: 'org-places',
  realmId: '9130000000000091',
  connectionId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a91',
};
let db: TestDatabase;
let orm: MikroORM;
const tx = <T>(fn: (em: Em) => Promise<T>) => orm.em.fork().transactional((em) => fn(em as unknown as Em));

before(async () => {
  db = await createTestDatabase('sync_places');
  orm = await openDatabase({ url: db.url, schema: 'sync', poolMax: 2, log: testLogger('sync'), migrations });
});

after(async () => {
  await orm?.close();
  await db?.drop();
});

const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (from: number, position: number): PoisonedRecord => ({
  entity: 'Customer',
  code: '4002',
  from: T0 + from * 1_000,
  to: T0 + from * 1_000 + 1_000,
  position,
});
const errorIdOf = async (p: PoisonedRecord) =>
  (
    await db.query<{ error_id: string }>(
      'select error_id::text from sync.sync_error where range_from = $1 and position = $2',
      [new Date(p.from as number).toISOString(), p.position],
    )
  )[0]?.error_id as string;

describe('places a record’s Id may name', () => {
  it('are the open ones alone in their range, closed ones still sharing it; named rows count once', async () => {
    const run = randomUUID();
    const alone = at(0, 1);
    const [first, second] = [at(10, 1), at(10, 2)];
    const closedAlone = at(20, 1);
    await tx((em) =>
      recordPoisoned(em, target, run, [
        alone,
        first,
        second,
        closedAlone,
        { entity: 'Customer', code: '4002', entityId: '7' },
        { ...at(30, 1), entity: 'Invoice' },
      ]),
    );
    assert.equal(await tx((em) => runErrorCount(em, run)), 6);

    // Two places of one range cannot be told apart, even once one of them is closed.
    const rest = randomUUID();
    await db.query(
      `update sync.sync_error set resolved_at = now(), resolved_by = 'retry', resolved_run_id = $2::uuid
       where error_id = $1::uuid`,
      [await errorIdOf(first), rest],
    );
    const closedId = await errorIdOf(closedAlone);
    await tx((em) => closeNamedPlace(em, target, closedId, run));
    const places = await tx((em) => lonePlaces(em, target, 'Customer', 10));
    assert.deepEqual(
      places.map((p) => [p.errorId, p.from, p.to]),
      [[await errorIdOf(alone), alone.from, alone.to]],
    );
    assert.deepEqual(await tx((em) => lonePlaces(em, target, 'Customer', 0)), [], 'at most the limit');

    // The named row is the same record as its Id's row: the run counts it once.
    assert.equal(await tx((em) => runErrorCount(em, run)), 5);
    const [named] = await db.query<{ resolved_by: string; resolved_run_id: string }>(
      'select resolved_by, resolved_run_id::text from sync.sync_error where error_id = $1::uuid',
      [closedId],
    );
    assert.deepEqual(named, { resolved_by: 'named', resolved_run_id: run });
  });
});
