import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AnyEnvelope, PauseSync, RequestSync, ResumeSync, SetSyncInterval } from '@qbo/events';
import { attack } from '@qbo/testkit';
import type { SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

/**
 * Sync control commands naming a company of another org: the bus cannot tell who sent a command, so the
 * service must never act on a connection that is not the command's org's. Counted in `sync_target`,
 * `sync_run`, at the simulator and on the topic.
 */
let sim: SimulatorUnderTest;
let stack: SyncStack;
const victim = { orgId: newOrg(), realmId: '', connectionId: '' };
const attacker = { orgId: newOrg(), realmId: '', connectionId: '' };

/** Everything of a company a control could change: pause, schedule, the sync asked for, pending loads. */
const stateOf = async (realmId: string) =>
  (
    await stack.db.query(
      `select paused_at, interval_ms, schedule_at, wanted_at, wanted_reason, needs_load, load_entities,
         reconcile_at, reconcile_entities, status, updated_at
       from sync.sync_target where realm_id = $1`,
      [realmId],
    )
  )[0];
const runsOf = async (realmId: string) =>
  (
    await stack.db.query<{ n: number }>('select count(*)::int as n from sync.sync_run where realm_id = $1', [
      realmId,
    ])
  )[0]?.n;

before(async () => {
  sim = await startSimulator(['--seed', '41', '--companies', '2', '--records', '150']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_MIN_INTERVAL_MS: '1000' });
  for (const [org, realmId] of [
    [victim, sim.realmIds[0]],
    [attacker, sim.realmIds[1]],
  ] as const) {
    org.realmId = realmId as string;
    org.connectionId = await stack.connect(org.realmId, org.orgId);
    await stack.waitForRun(org.realmId, { mode: 'initial', status: 'completed' });
    await stack.waitForRun(org.realmId, { mode: 'cdc', status: 'completed' });
    await stack.idle(org.realmId);
  }
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

/** Sends each command as `orgId` naming `connectionId`; returns the answers, each checked as a refusal. */
async function forge(orgId: string, connectionId: string, kinds: readonly Forged[]): Promise<AnyEnvelope[]> {
  const ids: string[] = [];
  for (const kind of kinds) {
    ids.push(
      kind === 'pause'
        ? await stack.command(PauseSync, orgId, { connectionId })
        : kind === 'resume'
          ? await stack.command(ResumeSync, orgId, { connectionId })
          : kind === 'interval'
            ? await stack.command(SetSyncInterval, orgId, { connectionId, intervalMs: 1_000 })
            : await stack.command(RequestSync, orgId, {
                connectionId,
                mode: kind,
                ...(kind === 'reconciliation' ? { entities: ['Customer'] } : {}),
              }),
    );
  }
  const answers = await Promise.all(ids.map((id) => stack.answerTo(id)));
  for (const [i, answer] of answers.entries()) {
    assert.equal((answer.data as { outcome: string }).outcome, 'not_found', `${kinds[i]} refused`);
    assert.equal(answer.orgId, orgId, 'answered to the org that sent it');
    assert.equal(answer.realmId, undefined, 'the answer names no realm');
  }
  return answers;
}
type Forged = 'pause' | 'resume' | 'interval' | 'incremental' | 'full' | 'reconciliation';

describe('sync control commands naming another org’s connection', () => {
  attack(
    'pause, interval and every sync mode for a connection of another org change nothing and are refused',
    async () => {
      const before = {
        state: await stateOf(victim.realmId),
        runs: await runsOf(victim.realmId),
        calls: (await sim.counters())[victim.realmId],
        at: new Date().toISOString(),
      };
      const answers = await forge(attacker.orgId, victim.connectionId, [
        'pause',
        'interval',
        'incremental',
        'full',
        'reconciliation',
      ]);
      const kinds = answers.map((a) => a.type).sort();
      assert.deepEqual(kinds, [
        'SyncIntervalChanged',
        'SyncPaused',
        'SyncRequested',
        'SyncRequested',
        'SyncRequested',
      ]);
      // Past the worker's polls: a sync recorded by mistake would have started.
      await sleep(2_000);
      assert.deepEqual(await stateOf(victim.realmId), before.state, 'the company’s row is untouched');
      assert.equal(await runsOf(victim.realmId), before.runs, 'no run');
      assert.deepEqual((await sim.counters())[victim.realmId], before.calls, 'no call to Intuit');
      const toVictim = (await stack.readAll(topics.syncRuns)).filter(
        (m) => m.value?.orgId === victim.orgId && (m.value?.time ?? '') >= before.at,
      );
      assert.deepEqual(toVictim, [], 'nothing written to the victim’s stream');
    },
    { timeout: 120_000 },
  );

  attack(
    'a resume for a connection of another org leaves its pause in place',
    async () => {
      const paused = await stack.answerTo(
        await stack.command(PauseSync, victim.orgId, { connectionId: victim.connectionId }),
      );
      assert.equal((paused.data as { outcome: string }).outcome, 'paused');
      const before = { state: await stateOf(victim.realmId), runs: await runsOf(victim.realmId) };
      await forge(attacker.orgId, victim.connectionId, ['resume']);
      await sleep(1_500);
      assert.deepEqual(await stateOf(victim.realmId), before.state, 'still paused, nothing asked for');
      assert.equal(await runsOf(victim.realmId), before.runs, 'no run');
    },
    { timeout: 60_000 },
  );

  attack(
    'the victim’s org naming the attacker’s connection is refused the same way',
    async () => {
      const before = { state: await stateOf(attacker.realmId), runs: await runsOf(attacker.realmId) };
      await forge(victim.orgId, attacker.connectionId, ['pause', 'interval', 'full']);
      await sleep(1_500);
      assert.deepEqual(await stateOf(attacker.realmId), before.state);
      assert.equal(await runsOf(attacker.realmId), before.runs);
    },
    { timeout: 60_000 },
  );
});
