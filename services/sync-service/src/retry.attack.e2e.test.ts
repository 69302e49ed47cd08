import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { AnyEnvelope } from '@qbo/events';
import { attack, waitFor } from '@qbo/testkit';
import { simulatorRecords } from './testing/compare.js';
import type { Counters, SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '31', '--companies', '1', '--records', '1000']);
  stack = await startSyncStack(sim);
  await stack.startReplica();
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const callsOf = (counters: Counters, realmId: string) =>
  Object.values(counters[realmId] ?? {}).reduce((sum, e) => sum + (e?.calls ?? 0), 0);

describe('retry commands from outside', () => {
  attack(
    'a burst of 20 RetrySyncError for a record that still fails spends one call of the company’s Intuit budget, not 20',
    async () => {
      const realmId = sim.realmIds[0] as string;
      const orgId = newOrg();
      const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()];
      await sim.addFault({
        kind: 'poison',
        realmId,
        entity: 'Customer',
        recordId: customers[5] as string,
        code: '4002',
      });
      const connectionId = await stack.connect(realmId, orgId);
      await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 120_000);
      await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
      const [row] = await stack.db.query<{ error_id: string }>(
        'select error_id::text from sync.sync_error where realm_id = $1',
        [realmId],
      );
      assert.ok(row);
      const before = callsOf(await sim.counters(), realmId);
      const commands = await Promise.all(
        Array.from({ length: 20 }, () => stack.retryError(orgId, connectionId, row.error_id)),
      );
      const answers = async () =>
        (await stack.readAll(topics.syncRuns))
          .map((m) => m.value)
          .filter(
            (v): v is AnyEnvelope =>
              v?.type === 'SyncErrorRetried' &&
              commands.includes((v.data as { commandId: string }).commandId),
          );
      await waitFor(async () => (await answers()).length === 20, {
        timeoutMs: 60_000,
        what: 'every command answered',
      });
      for (const a of await answers()) {
        const data = a.data as { outcome: string; error?: { code: string } };
        assert.deepEqual(
          [data.outcome, data.error?.code],
          ['failed', '4002'],
          'each told the record still fails',
        );
      }
      assert.equal(callsOf(await sim.counters(), realmId) - before, 1, 'calls to Intuit for 20 commands');
    },
    { timeout: 240_000 },
  );
});
