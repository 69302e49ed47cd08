import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PauseSync, RequestSync, ResumeSync, SetSyncInterval } from '@qbo/events';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { apiCalls, type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

/**
 * The sync controls as commands on `qbo.commands.v1`, counted at the simulator, the tables and the topic: the
 * same effects as the HTTP API's routes (`api.e2e.test.ts`), each answered by an event.
 */
let sim: SimulatorUnderTest;
let stack: SyncStack;
const a = { orgId: newOrg(), realmId: '', connectionId: '' };

const FLOOR_MS = 1_000;
const DEFAULT_INTERVAL_MS = 3_600_000;

const answerData = async (commandId: string) =>
  (await stack.answerTo(commandId)).data as Record<string, unknown> & { outcome: string };

const runsSince = async (realmId: string, since: Date) =>
  (
    await stack.db.query<{ n: number }>(
      'select count(*)::int as n from sync.sync_run where realm_id = $1 and started_at >= $2',
      [realmId, since],
    )
  )[0]?.n;

const target = async (realmId: string) =>
  (
    await stack.db.query<{
      paused_at: Date | null;
      interval_ms: string | null;
      wanted_at: Date | null;
      schedule_at: Date | null;
      last_synced_at: Date | null;
    }>(
      `select paused_at, interval_ms::text, wanted_at,
         case when schedule_at = 'infinity' then null else schedule_at end as schedule_at, last_synced_at
       from sync.sync_target where realm_id = $1`,
      [realmId],
    )
  )[0];

before(async () => {
  sim = await startSimulator(['--seed', '37', '--companies', '1', '--records', '200']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_MIN_INTERVAL_MS: String(FLOOR_MS) });
  a.realmId = sim.realmIds[0] as string;
  a.connectionId = await stack.connect(a.realmId, a.orgId);
  await stack.waitForRun(a.realmId, { mode: 'initial', status: 'completed' });
  await stack.waitForRun(a.realmId, { mode: 'cdc', status: 'completed' });
  await stack.idle(a.realmId);
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

describe('sync control commands', () => {
  it('PauseSync stops every call for the realm while webhooks keep arriving; ResumeSync catches up with one CDC call', {
    timeout: 120_000,
  }, async () => {
    const paused = await stack.command(PauseSync, a.orgId, { connectionId: a.connectionId });
    const answer = await stack.answerTo(paused);
    assert.equal((answer.data as { outcome: string }).outcome, 'paused');
    assert.deepEqual([answer.orgId, answer.realmId], [a.orgId, a.realmId]);
    const pausedAt = (await target(a.realmId))?.paused_at;
    assert.ok(pausedAt, 'the company is paused in sync_target');
    const quiet = await sim.counters();
    const since = new Date();

    // Three changes in QuickBooks, notified one after the other while paused.
    const customers = (
      await stack.db.query<{ entity_id: string }>(
        `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer'
           and deleted_at is null order by entity_id limit 3`,
        [a.realmId],
      )
    ).map((r) => r.entity_id);
    for (const id of customers) {
      const changed = await sim.change(a.realmId, {
        op: 'update',
        entity: 'Customer',
        id,
        data: { CompanyName: `paused-by-command-${id}` },
      });
      const sent = new Date();
      await stack.notify(a.orgId, a.realmId, [
        {
          entity: 'Customer',
          entityId: id,
          operation: 'Update',
          lastUpdated: (changed.MetaData as { LastUpdatedTime: string }).LastUpdatedTime,
        },
      ]);
      await stack.waitForInbox(sent);
      await sleep(700);
    }
    const notices = await stack.db.query(
      `select 1 from sync.change_notice where realm_id = $1 and entity = 'Customer' and entity_id = any($2)
         and notified_at >= $3`,
      [a.realmId, customers, since],
    );
    assert.equal(notices.length, 3, 'every notification is recorded while paused');

    // A sync asked of the paused company is refused, and a second pause keeps the first time.
    const asked = await answerData(
      await stack.command(RequestSync, a.orgId, { connectionId: a.connectionId, mode: 'incremental' }),
    );
    assert.equal(asked.outcome, 'paused');
    const again = await answerData(await stack.command(PauseSync, a.orgId, { connectionId: a.connectionId }));
    assert.equal(again.outcome, 'already_paused');
    assert.equal(again.pausedAt, new Date(pausedAt).toISOString());

    // Past the webhook debounce (1 s) and many worker polls.
    await sleep(3_000);
    assert.deepEqual((await sim.counters())[a.realmId], quiet[a.realmId], 'no call for the paused realm');
    assert.equal(await runsSince(a.realmId, since), 0, 'no run while paused');

    const resumedAt = new Date();
    const resumed = await answerData(
      await stack.command(ResumeSync, a.orgId, { connectionId: a.connectionId }),
    );
    assert.equal(resumed.outcome, 'resumed');
    const run = await stack.waitForRun(a.realmId, { status: 'completed', after: resumedAt }, 30_000);
    assert.equal(run.mode, 'cdc');
    const [trigger] = await stack.db.query<{ trigger: string }>(
      'select trigger from sync.sync_run where run_id = $1',
      [run.run_id],
    );
    assert.equal(trigger?.trigger, 'resume');
    await stack.idle(a.realmId);
    const after = await sim.counters();
    assert.equal(apiCalls(after, a.realmId, 'cdc') - apiCalls(quiet, a.realmId, 'cdc'), 1, 'one CDC call');
    assert.equal(apiCalls(after, a.realmId) - apiCalls(quiet, a.realmId), 1, 'and nothing else');
    const names = await stack.db.query<{ entity_id: string; name: string }>(
      `select entity_id, payload->>'CompanyName' as name from sync.mirror_record
       where realm_id = $1 and entity = 'Customer' and entity_id = any($2) order by entity_id`,
      [a.realmId, customers],
    );
    assert.deepEqual(
      names.map((r) => r.name).sort(),
      customers.map((id) => `paused-by-command-${id}`).sort(),
      'every change made while paused is mirrored',
    );
    const noop = await answerData(await stack.command(ResumeSync, a.orgId, { connectionId: a.connectionId }));
    assert.equal(noop.outcome, 'not_paused');
  });

  it('RequestSync runs incremental, one-entity reconciliation, one-entity resync and full syncs as the API does', {
    timeout: 180_000,
  }, async () => {
    const ask = async (mode: 'incremental' | 'full' | 'reconciliation', entities?: string[]) => {
      await stack.idle(a.realmId);
      const at = new Date();
      const answer = await answerData(
        await stack.command(RequestSync, a.orgId, {
          connectionId: a.connectionId,
          mode,
          ...(entities ? { entities } : {}),
        }),
      );
      assert.equal(answer.outcome, 'accepted', `${mode} ${entities ?? ''}`);
      return at;
    };
    const runOf = async (runId: string) =>
      (
        await stack.db.query<{ trigger: string; entities: string[]; generation: number | null }>(
          'select trigger, entities, generation from sync.sync_run where run_id = $1',
          [runId],
        )
      )[0];

    let at = await ask('incremental');
    let run = await stack.waitForRun(a.realmId, { mode: 'cdc', status: 'completed', after: at });
    assert.equal((await runOf(run.run_id))?.trigger, 'command');

    at = await ask('reconciliation', ['Customer']);
    run = await stack.waitForRun(a.realmId, { mode: 'reconciliation', status: 'completed', after: at });
    assert.deepEqual((await runOf(run.run_id))?.entities, ['Customer']);

    at = await ask('full', ['Vendor']);
    run = await stack.waitForRun(a.realmId, { mode: 'initial', status: 'completed', after: at });
    const resync = await runOf(run.run_id);
    assert.deepEqual([resync?.trigger, resync?.entities], ['command', ['Vendor']]);

    at = await ask('full');
    run = await stack.waitForRun(a.realmId, { mode: 'initial', status: 'completed', after: at });
    const full = await runOf(run.run_id);
    assert.deepEqual([...(full?.entities ?? [])].sort(), [...DEFAULT_SYNC_ENTITIES].sort());
    assert.ok((full?.generation ?? 0) > (resync?.generation ?? 0), 'a new generation of the company');
    await stack.waitForRun(a.realmId, { mode: 'cdc', status: 'completed', after: run.finished_at as Date });
    await stack.idle(a.realmId);
  });

  it('answers a RequestSync it cannot serve with its reason, recording nothing', {
    timeout: 60_000,
  }, async () => {
    await stack.idle(a.realmId);
    const since = new Date();
    const quiet = await sim.counters();
    const unknown = await answerData(
      await stack.command(RequestSync, a.orgId, {
        connectionId: a.connectionId,
        mode: 'full',
        entities: ['Invoice', 'Estimate'],
      }),
    );
    assert.deepEqual([unknown.outcome, unknown.entities], ['unknown_entity', ['Estimate']]);
    const invalid = await answerData(
      await stack.command(RequestSync, a.orgId, {
        connectionId: a.connectionId,
        mode: 'incremental',
        entities: ['Invoice'],
      }),
    );
    assert.equal(invalid.outcome, 'invalid');
    const nowhere = randomUUID();
    const missing = await stack.answerTo(
      await stack.command(RequestSync, a.orgId, { connectionId: nowhere, mode: 'incremental' }),
    );
    assert.deepEqual(
      [(missing.data as { outcome: string }).outcome, missing.realmId],
      ['not_found', undefined],
    );
    assert.equal((await target(a.realmId))?.wanted_at, null, 'no sync asked for');
    await sleep(1_500);
    assert.equal(await runsSince(a.realmId, since), 0, 'no run');
    assert.deepEqual((await sim.counters())[a.realmId], quiet[a.realmId], 'no call');
  });

  it('SetSyncInterval holds the API’s floor, sets a company’s interval, and returns it to the default', {
    timeout: 60_000,
  }, async () => {
    await stack.idle(a.realmId);
    const low = await answerData(
      await stack.command(SetSyncInterval, a.orgId, {
        connectionId: a.connectionId,
        intervalMs: FLOOR_MS - 1,
      }),
    );
    assert.deepEqual([low.outcome, low.minIntervalMs, low.intervalMs], ['out_of_range', FLOOR_MS, undefined]);
    assert.equal((await target(a.realmId))?.interval_ms, null, 'nothing changed');

    const set = await answerData(
      await stack.command(SetSyncInterval, a.orgId, { connectionId: a.connectionId, intervalMs: 5_000 }),
    );
    assert.deepEqual([set.outcome, set.intervalMs, set.isDefault], ['set', 5_000, false]);
    const t = await target(a.realmId);
    assert.equal(t?.interval_ms, '5000');
    assert.ok(
      t?.schedule_at && t.last_synced_at && t.schedule_at.getTime() <= t.last_synced_at.getTime() + 5_000,
      'the next delta moved to the last sync plus the new interval',
    );
    const scheduledFrom = new Date();
    const scheduled = await stack.waitForRun(
      a.realmId,
      { mode: 'cdc', status: 'completed', after: scheduledFrom },
      20_000,
    );
    const [row] = await stack.db.query<{ trigger: string }>(
      'select trigger from sync.sync_run where run_id = $1',
      [scheduled.run_id],
    );
    assert.equal(row?.trigger, 'schedule');

    const reset = await answerData(
      await stack.command(SetSyncInterval, a.orgId, { connectionId: a.connectionId, intervalMs: null }),
    );
    assert.deepEqual([reset.outcome, reset.intervalMs, reset.isDefault], ['set', DEFAULT_INTERVAL_MS, true]);
    assert.equal((await target(a.realmId))?.interval_ms, null);
  });
});
