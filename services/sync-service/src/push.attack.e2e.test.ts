import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { createEventFactory, DeleteRecord, UpsertRecord } from '@qbo/events';
import { attack, waitFor } from '@qbo/testkit';
import { simulatorRecords } from './testing/compare.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

/** Two orgs, each with its own company; the attacker names the victim's connection in its commands. */
let sim: SimulatorUnderTest;
let stack: SyncStack;
const victim = { orgId: newOrg(), realmId: '', connectionId: '' };
const attacker = { orgId: newOrg(), realmId: '', connectionId: '' };
const commands = createEventFactory({ source: 'attacker' });

before(async () => {
  sim = await startSimulator(['--seed', '22', '--companies', '2', '--records', '100']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_PUSH_WINDOW_MS: '100' });
  for (const [o, realmId] of [
    [victim, sim.realmIds[0]],
    [attacker, sim.realmIds[1]],
  ] as const) {
    o.realmId = realmId as string;
    o.connectionId = await stack.connect(o.realmId, o.orgId);
    await stack.waitForRun(o.realmId, { mode: 'initial', status: 'completed' });
  }
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const writesAt = async (realmId: string) => {
  const c = (await sim.counters())[realmId] ?? {};
  return (c.write?.calls ?? 0) + (c.batch?.calls ?? 0);
};

describe('push commands naming a connection of another org', () => {
  attack(
    "an UpsertRecord and a DeleteRecord on another org's connection change nothing at the simulator",
    async () => {
      const customers = await simulatorRecords(sim, victim.realmId, 'Customer');
      const [id, target] = [...customers][0] as [string, Record<string, unknown>];
      const before = await writesAt(victim.realmId);
      const forged = [
        commands(UpsertRecord, {
          orgId: attacker.orgId,
          realmId: victim.realmId,
          data: {
            connectionId: victim.connectionId,
            entity: 'Customer',
            entityId: id,
            syncToken: String(target.SyncToken),
            sparse: true,
            payload: { CompanyName: 'Owned' },
          },
        }),
        commands(UpsertRecord, {
          orgId: attacker.orgId,
          realmId: victim.realmId,
          data: {
            connectionId: victim.connectionId,
            entity: 'Customer',
            sparse: true,
            payload: { DisplayName: 'Planted' },
          },
        }),
        commands(DeleteRecord, {
          orgId: attacker.orgId,
          realmId: victim.realmId,
          data: {
            connectionId: victim.connectionId,
            entity: 'Customer',
            entityId: id,
            syncToken: String(target.SyncToken),
          },
        }),
      ];
      await stack.publish(forged);
      await waitFor(
        async () =>
          (
            await stack.db.query(
              "select 1 from sync.sync_push where command_id = any($1::uuid[]) and status = 'failed'",
              [forged.map((c) => c.id)],
            )
          ).length === forged.length,
        { timeoutMs: 30_000, what: 'the forged commands refused' },
      );
      await stack.drained();
      assert.equal(await writesAt(victim.realmId), before, 'no write reached the victim company');
      assert.deepEqual(await simulatorRecords(sim, victim.realmId, 'Customer'), customers);
      const answers = (await stack.readAll(topics.syncRuns))
        .map((m) => m.value)
        .filter((v) => v && forged.some((c) => c.id === (v.data as { commandId?: string }).commandId));
      assert.equal(answers.length, forged.length);
      for (const a of answers) {
        assert.equal(a?.type, 'RecordPushFailed');
        assert.equal(a?.orgId, attacker.orgId, "the answer goes to the attacker's own stream");
        assert.equal(a?.realmId, undefined, "the answer names no realm of the victim's");
        assert.equal(
          (a?.data as { error?: { code: string } } | undefined)?.error?.code,
          'connection_not_found',
        );
      }
    },
  );
});
