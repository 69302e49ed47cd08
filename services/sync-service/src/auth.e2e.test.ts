import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { ORG_JWT } from './testing/org-tokens.js';
import { findSecrets, httpText, processText, tableText, topicText } from './testing/secret-scan.js';
import {
  type Counters,
  callsTo,
  type SimulatorUnderTest,
  startSimulator,
} from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  // Intuit's limits are on, and pages are small: a load takes seconds, long enough to fault it midway.
  sim = await startSimulator(['--seed', '19', '--companies', '2', '--records', '4000']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_PAGE_SIZE: '200' });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const realmCounters = (c: Counters, realmId: string) => c[realmId] ?? {};
const statusCount = (c: Counters, realmId: string, status: string) =>
  Object.values(realmCounters(c, realmId)).reduce((n, e) => n + (e.statuses?.[status] ?? 0), 0);

/** Waits until the load of a realm has committed a page. */
const firstPage = (realmId: string) =>
  waitFor(
    async () =>
      (await stack.db.query('select 1 from sync.mirror_record where realm_id = $1 limit 1', [realmId]))
        .length > 0,
    { timeoutMs: 30_000, intervalMs: 20, what: `a first page of ${realmId}` },
  );

let connectionA = '';

describe('sync-service and the grant', () => {
  it('refreshes once when the access token expires mid-load, and completes the load', async () => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    connectionA = await stack.connect(realmId, orgId);
    await firstPage(realmId);
    const before = await sim.counters();
    await sim.expireAccessTokens(realmId);
    const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
    const after = await sim.counters();

    assert.ok(
      statusCount(after, realmId, '401') > statusCount(before, realmId, '401'),
      'Intuit answered 401',
    );
    assert.equal(callsTo(after, 'token') - callsTo(before, 'token'), 1, 'one refresh at the token endpoint');
    assert.ok(run.upserted > 0);
    assert.deepEqual(
      await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES),
      [],
      'the mirror equals the simulator',
    );
  });

  it('stops syncing a revoked grant: the run fails as auth, and Intuit sees no further call', async () => {
    const realmId = sim.realmIds[1] as string;
    const orgId = newOrg();
    const connectionId = await stack.connect(realmId, orgId);
    await firstPage(realmId);
    await sim.revoke(realmId);
    const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'failed' });
    const [row] = await stack.db.query<{ category: string }>(
      `select error->>'category' as category from sync.sync_run where run_id = $1`,
      [run.run_id],
    );
    assert.equal(row?.category, 'auth');
    await stack.drained();
    const failed = (await stack.readAll(topics.syncRuns))
      .map((m) => m.value)
      .filter((v) => v?.type === 'SyncFailed' && v.realmId === realmId);
    assert.equal(failed.length, 1, 'one SyncFailed on the sync-runs topic');
    const data = failed[0]?.data as { syncRunId: string; willRetry: boolean; error: { category: string } };
    assert.equal(data.syncRunId, run.run_id);
    assert.equal(data.error.category, 'auth');
    assert.equal(data.willRetry, false);

    const [target] = await stack.db.query<{ stopped: boolean }>(
      `select status <> 'active' or schedule_at = 'infinity' as stopped from sync.sync_target
       where org_id = $1 and realm_id = $2`,
      [orgId, realmId],
    );
    assert.equal(target?.stopped, true, 'the company is no longer scheduled');

    const quiet = await sim.counters();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // fifteen poll intervals
    assert.deepEqual(realmCounters(await sim.counters(), realmId), realmCounters(quiet, realmId));
    const asked = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    await stack.waitForInbox(asked);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const later = await sim.counters();
    assert.deepEqual(realmCounters(later, realmId), realmCounters(quiet, realmId), 'no call for the realm');
    assert.equal(callsTo(later, 'token'), callsTo(quiet, 'token'), 'no refresh attempted');
  });

  it('keeps every token and the service credential out of tables, topics, logs and HTTP answers', async () => {
    await stack.drained();
    const current = await stack.tokens.client().getAccessToken(connectionA);
    // The org-token signing key too: the replicas hold it to verify the sync API's callers.
    const secrets = [...stack.secrets, ORG_JWT.secret, current.accessToken];
    assert.ok(secrets.length >= 7, 'the credential, the signing key and both grants’ tokens are scanned for');
    const scan = async () => [
      ...(await tableText(stack)),
      ...(await topicText(stack)),
      ...(await httpText(stack)),
      ...processText(stack),
    ];
    const [logged] = await stack.db.query<{ n: number }>('select count(*)::int as n from sync.qbo_api_log');
    assert.ok((logged?.n ?? 0) > 0, 'the API log is among the tables scanned');
    assert.deepEqual(findSecrets(await scan(), secrets), []);

    // The scan can fail: a token planted in a table is found.
    await stack.db.query(
      `insert into sync.change_notice (org_id, realm_id, entity, entity_id, operation, last_updated)
       values ('org-planted', 'realm-planted', 'Customer', $1, 'Update', now())`,
      [current.accessToken],
    );
    try {
      assert.deepEqual(findSecrets(await tableText(stack), secrets), [
        `secret #${secrets.length - 1} in table sync.change_notice`,
      ]);
    } finally {
      await stack.db.query(`delete from sync.change_notice where org_id = 'org-planted'`);
    }
  });
});
