import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testLogger } from '@qbo/event-bus/testing';
import { type MikroORM, openDatabase } from '@qbo/service-kit';
import { createTestDatabase, type TestDatabase } from '@qbo/testkit';
import { MAX_RUN_LINKS } from '../sync/run-trace.js';
import { resume } from './controls.js';
import { migrations } from './migrations.js';
import { connectionUsable } from './projection.js';
import type { Em } from './sql.js';
import { requestSync } from './sync-requests.js';
import { markClaimed, readTarget, wantSync } from './targets.js';

const tp = (n: number) => `00-${n.toString(16).padStart(32, '0')}-${n.toString(16).padStart(16, '0')}-01`;
const org = 'org-trace';
const realm = '9130000000000042';
const connectionId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const target = { orgId: org, realmId: realm, connectionId };

let db: TestDatabase;
let orm: MikroORM;
const tx = <T>(fn: (em: Em) => Promise<T>) => orm.em.fork().transactional((em) => fn(em as unknown as Em));
const asked = async () => (await readTarget(orm.em.fork() as unknown as Em, org, realm))?.asked;

before(async () => {
  db = await createTestDatabase('sync_asked_trace');
  orm = await openDatabase({ url: db.url, schema: 'sync', poolMax: 2, log: testLogger('sync'), migrations });
  await tx((em) => connectionUsable(em, { ...target, at: '2026-03-01T00:00:00Z' }, ['Customer'], tp(1)));
});

after(async () => {
  await orm?.close();
  await db?.drop();
});

describe('the trace kept with a sync asked for', () => {
  it('is the connection event’s for the first load', async () => {
    assert.deepEqual(await asked(), { traceparent: tp(1), links: [], due: true });
  });

  it('keeps the first notification of a debounced burst as the parent and links the others once each', async () => {
    await tx((em) => markClaimed(em, target, 60_000));
    assert.deepEqual(await asked(), { traceparent: null, links: [], due: false });
    for (const n of [2, 3, 2, 4, 3]) await tx((em) => wantSync(em, org, realm, 60_000, 'webhook', tp(n)));
    assert.deepEqual(await asked(), { traceparent: tp(2), links: [tp(3), tp(4)], due: false });
  });

  it('makes a command its parent, the notifications waiting before it links', async () => {
    await tx((em) => requestSync(em, { orgId: org, connectionId, mode: 'incremental' }, tp(5)));
    assert.deepEqual(await asked(), { traceparent: tp(5), links: [tp(3), tp(4), tp(2)], due: true });
  });

  it('links at most MAX_RUN_LINKS askers', async () => {
    for (let n = 10; n < 10 + 2 * MAX_RUN_LINKS; n++) {
      await tx((em) => wantSync(em, org, realm, 0, 'webhook', tp(n)));
    }
    const kept = await asked();
    assert.equal(kept?.traceparent, tp(5));
    assert.equal(kept?.links.length, MAX_RUN_LINKS);
  });

  it('starts over after a claim: the next asker is the next run’s parent', async () => {
    await tx((em) => markClaimed(em, target, 60_000));
    await tx((em) => wantSync(em, org, realm, 0, 'retry', tp(6)));
    assert.deepEqual(await asked(), { traceparent: tp(6), links: [], due: true });
  });

  it('makes a resume its parent', async () => {
    await tx((em) => markClaimed(em, target, 60_000));
    await db.query('update sync.sync_target set paused_at = now()');
    await tx((em) => wantSync(em, org, realm, 0, 'webhook', tp(7)));
    await tx((em) => resume(em, target, tp(8)));
    assert.deepEqual(await asked(), { traceparent: tp(8), links: [tp(7)], due: true });
  });
});
