import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AnyEnvelope } from '@qbo/events';
import { attack, waitFor } from '@qbo/testkit';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { edits } from './testing/qbo-changes.js';
import type { Counters, SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

/** Long enough to cover the burst, short enough for the test after it to wait out. */
const RETRY_INTERVAL_MS = 10_000;
let sim: SimulatorUnderTest;
let orgId: string;
let connectionId: string;
let poisonedId: string;
let errorId: string;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '31', '--companies', '1', '--records', '1000']);
  stack = await startSyncStack(sim);
  await stack.startReplica({ SYNC_RETRY_RECORD_INTERVAL_MS: String(RETRY_INTERVAL_MS) });
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
      orgId = newOrg();
      const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).keys()].sort(
        (a, b) => Number(a) - Number(b),
      );
      // Three customers share one second, the poisoned one between the others: the load knows it by its place.
      const group = customers.slice(4, 7);
      poisonedId = group[1] as string;
      const tie = Math.floor(((await sim.clock()) - 30_000) / 1_000) * 1_000;
      await sim.bulk(realmId, edits('Customer', group, 'tie'), new Date(tie).toISOString());
      await sim.addFault({
        kind: 'poison',
        realmId,
        entity: 'Customer',
        recordId: poisonedId,
        code: '4002',
      });
      connectionId = await stack.connect(realmId, orgId);
      await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 120_000);
      await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
      const [row] = await stack.db.query<{ error_id: string }>(
        'select error_id::text from sync.sync_error where realm_id = $1',
        [realmId],
      );
      assert.ok(row);
      errorId = row.error_id;
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

  it('closes a record known by its place as moved, never as another record, when a fix in QuickBooks moved it', {
    timeout: 120_000,
  }, async () => {
    const realmId = sim.realmIds[0] as string;
    const since = new Date();
    await sim.bulk(realmId, edits('Customer', [poisonedId], 'fixed'));
    await sim.clearFaults();
    await stack.requestSync(orgId, connectionId, 'incremental');
    await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed', after: since });
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, ['Customer']), [], 'the delta read it');
    await sleep(RETRY_INTERVAL_MS);
    const command = await stack.retryError(orgId, connectionId, errorId);
    let answer: { outcome: string; apiCalls: number; entityId?: string } | undefined;
    await waitFor(
      async () => {
        answer = (await stack.readAll(topics.syncRuns))
          .map((m) => m.value)
          .find(
            (v) => v?.type === 'SyncErrorRetried' && (v.data as { commandId: string }).commandId === command,
          )?.data as typeof answer;
        return answer !== undefined;
      },
      { timeoutMs: 30_000, what: 'the retry answered' },
    );
    assert.deepEqual([answer?.outcome, answer?.apiCalls, answer?.entityId], ['moved', 1, undefined]);
    const [row] = await stack.db.query<{ entity_id: string | null; resolved_by: string | null }>(
      'select entity_id, resolved_by from sync.sync_error where error_id = $1::uuid',
      [errorId],
    );
    assert.deepEqual([row?.entity_id, row?.resolved_by], [null, 'moved']);
  });
});
