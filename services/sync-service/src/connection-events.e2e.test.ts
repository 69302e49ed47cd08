import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventProducer } from '@qbo/event-bus';
import { createTestProducer } from '@qbo/event-bus/testing';
import {
  type CatalogEvent,
  ConnectionDeactivated,
  ConnectionDisconnected,
  ConnectionReauthorized,
  createEventFactory,
  ReauthorizationRequired,
} from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { feedProblems, orgLog } from './testing/feed-check.js';
import { latestState } from './testing/feed-reading.js';
import { apiCalls, type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

const PAGE = 100;
let sim: SimulatorUnderTest;
let stack: SyncStack;
let producer: EventProducer;
const tokenService = createEventFactory({ source: 'token-service' });
const authService = createEventFactory({ source: 'auth-service' });

before(async () => {
  // Intuit's limits on; small pages so a load lasts long enough to be stopped midway.
  sim = await startSimulator(['--seed', '23', '--companies', '5', '--records', '3000']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_PAGE_SIZE: String(PAGE) });
  producer = await createTestProducer(stack.bus);
});

after(async () => {
  await producer?.disconnect();
  await stack?.stop();
  await sim?.stop();
});

interface Company {
  orgId: string;
  realmId: string;
  connectionId: string;
}

/** What each stopping event looks like, as token-service or auth-service publishes it. */
const stopping: Record<string, (c: Company) => CatalogEvent> = {
  ConnectionDeactivated: (c) =>
    tokenService(ConnectionDeactivated, {
      orgId: c.orgId,
      realmId: c.realmId,
      data: {
        connectionId: c.connectionId,
        realmId: c.realmId,
        reason: 'invalid_grant',
        attempts: 1,
        deactivatedAt: new Date().toISOString(),
      },
    }),
  ReauthorizationRequired: (c) =>
    tokenService(ReauthorizationRequired, {
      orgId: c.orgId,
      realmId: c.realmId,
      data: {
        connectionId: c.connectionId,
        realmId: c.realmId,
        reason: 'refresh_token_expired',
        requiredSince: new Date().toISOString(),
      },
    }),
  ConnectionDisconnected: (c) =>
    authService(ConnectionDisconnected, {
      orgId: c.orgId,
      realmId: c.realmId,
      data: {
        connectionId: c.connectionId,
        realmId: c.realmId,
        reason: 'user_requested',
        revokedAtIntuit: false,
        disconnectedAt: new Date().toISOString(),
      },
    }),
};

const reauthorized = (c: Company) =>
  authService(ConnectionReauthorized, {
    orgId: c.orgId,
    realmId: c.realmId,
    data: {
      connectionId: c.connectionId,
      realmId: c.realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      reauthorizedAt: new Date().toISOString(),
      previousStatus: 'deactivated',
    },
  });

describe('a connection that stops in the middle of a load', () => {
  const names = Object.keys(stopping);
  names.forEach((name, i) => {
    it(`${name}: the run fails as auth, Intuit sees no further call, and a reconnect resumes from the checkpoint`, {
      timeout: 180_000,
    }, async (t) => {
      const realmId = sim.realmIds[i] as string;
      const c: Company = { orgId: newOrg(), realmId, connectionId: '' };
      // Slow pages: the event lands while the load is between them.
      await sim.addFault({ kind: 'latency', realmId, endpoint: 'query', latencyMs: 200 });
      c.connectionId = await stack.connect(realmId, c.orgId);
      await waitFor(
        async () =>
          (
            await stack.db.query(
              `select 1 from sync.sync_run where realm_id = $1 and mode = 'initial' and status = 'running'
                 and pages >= 10`,
              [realmId],
            )
          ).length > 0,
        { timeoutMs: 60_000, intervalMs: 20, what: 'ten pages of the load committed' },
      );

      const atEvent = await sim.counters();
      const sent = new Date();
      await producer.publish(stopping[name]?.(c) as CatalogEvent);
      await stack.waitForInbox(sent);
      const failed = await stack.waitForRun(realmId, { mode: 'initial', status: 'failed' }, 30_000);
      const atFailure = await sim.counters();
      const [row] = await stack.db.query<{ category: string; code: string; held: number }>(
        `select error->>'category' as category, error->>'code' as code,
           (select count(*)::int from sync.mirror_record where realm_id = $1) as held
         from sync.sync_run where run_id = $2`,
        [realmId, failed.run_id],
      );
      assert.deepEqual([row?.category, row?.code], ['auth', 'connection_stopped']);
      // The call in flight when the event landed, at most one more before the page's write was refused.
      const after = apiCalls(atFailure, realmId) - apiCalls(atEvent, realmId);
      t.diagnostic(
        `${name}: ${after} call(s) between the event and the run's end; ${row?.held} records kept`,
      );
      assert.ok(after <= 2, `${after} calls after the event`);

      await stack.drained();
      const syncFailed = (await stack.readAll(topics.syncRuns))
        .map((m) => m.value)
        .filter(
          (v) => v?.type === 'SyncFailed' && (v.data as { syncRunId: string }).syncRunId === failed.run_id,
        );
      assert.equal(syncFailed.length, 1, 'one SyncFailed on the sync-runs topic');
      const data = syncFailed[0]?.data as { willRetry: boolean; error: { category: string } };
      assert.deepEqual([data.error.category, data.willRetry], ['auth', false]);

      // Neither the schedule, a webhook nor a command makes a call for the stopped connection.
      const asked = new Date();
      await stack.notify(c.orgId, realmId, [
        { entity: 'Customer', entityId: '1', operation: 'Update', lastUpdated: new Date().toISOString() },
      ]);
      await stack.requestSync(c.orgId, c.connectionId, 'incremental');
      await stack.waitForInbox(asked);
      await sleep(2_500);
      assert.equal(apiCalls(await sim.counters(), realmId), apiCalls(atFailure, realmId), 'no further call');

      // The customer reconnects: the load resumes from its last committed page, not from the start.
      await sim.clearFaults();
      const back = new Date();
      if (name === 'ConnectionDisconnected') {
        c.connectionId = await stack.connect(realmId, c.orgId);
      } else {
        await producer.publish(reauthorized(c));
      }
      const resumed = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed', after: back });
      const company = (await sim.companies()).find((x) => x.realmId === realmId);
      const total = DEFAULT_SYNC_ENTITIES.reduce((n, e) => n + (company?.counts[e] ?? 0), 0);
      const read = resumed.upserted + resumed.unchanged;
      t.diagnostic(
        `${name}: the resumed load read ${read} of ${total} records in ${resumed.api_calls} calls`,
      );
      assert.ok(read < total, `the resumed load read ${read} of ${total} records`);
      await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: back });
      await stack.idle(realmId);
      assert.deepEqual(
        await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES),
        [],
        'the mirror equals the simulator',
      );
    });
  });
});

describe('another company connected by the same org', () => {
  it('is loaded on its own: its own cursors, mirror rows and state keys; the first company is left as it was', {
    timeout: 180_000,
  }, async () => {
    const orgId = newOrg();
    const [first, second] = [sim.realmIds[3], sim.realmIds[4]] as [string, string];
    await stack.connect(first, orgId);
    await stack.waitForRun(first, { mode: 'initial', status: 'completed' });
    await stack.waitForRun(first, { mode: 'cdc', status: 'completed' });
    await stack.idle(first);
    const firstRows = await stack.db.query<{ key: string; content_hash: string }>(
      `select entity || '/' || entity_id as key, content_hash from sync.mirror_record where realm_id = $1
       order by 1`,
      [first],
    );

    const since = new Date();
    await stack.connect(second, orgId);
    // A load of its own, never a delta from the first company's cursor.
    const load = await stack.waitForRun(second, { mode: 'initial', status: 'completed', after: since });
    assert.ok(load.upserted > 0);
    await stack.waitForRun(second, { mode: 'cdc', status: 'completed', after: since });
    await stack.idle(second);

    const targets = await stack.db.query<{ realm_id: string; cdc_since: Date | null }>(
      'select realm_id, cdc_since from sync.sync_target where org_id = $1 order by realm_id',
      [orgId],
    );
    assert.deepEqual(targets.map((r) => r.realm_id).sort(), [first, second].sort(), 'one row per company');
    assert.deepEqual(
      await stack.db.query(
        `select entity || '/' || entity_id as key, content_hash from sync.mirror_record where realm_id = $1
         order by 1`,
        [first],
      ),
      firstRows,
      'the first company’s mirror rows untouched',
    );
    for (const realmId of [first, second]) {
      assert.deepEqual(
        await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES),
        [],
        `${realmId}: the mirror equals that company at the simulator`,
      );
    }
    // Both companies' events share the org's one sequence, without a gap, each under its own realm.
    const log = await orgLog(stack, orgId);
    assert.deepEqual(await feedProblems(stack, orgId, log), []);
    const snapshots = log.filter((e) => e.type === 'RecordSnapshotStarted').map((e) => e.realmId);
    assert.deepEqual(snapshots, [first, second], 'one snapshot per company');
    const state = [...(await latestState(stack)).keys()].filter((k) => k.startsWith(`${orgId}:`));
    const secondKeys = state.filter((k) => k.startsWith(`${orgId}:${second}:`));
    const [mirrored] = await stack.db.query<{ n: number }>(
      'select count(*)::int as n from sync.mirror_record where realm_id = $1',
      [second],
    );
    assert.equal(secondKeys.length, mirrored?.n, 'a state key per record of the second company');
    assert.equal(
      state.length,
      secondKeys.length + firstRows.length,
      'and the first company’s keys beside them, no other',
    );
  });
});
