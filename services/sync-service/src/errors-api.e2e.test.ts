import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AnyEnvelope } from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { simulatorRecords } from './testing/compare.js';
import { orgToken } from './testing/org-tokens.js';
import type { Counters, SimulatorUnderTest } from './testing/simulator-control.js';
import { startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;
let url = '';

before(async () => {
  sim = await startSimulator(['--seed', '31', '--companies', '1', '--records', '1000']);
  stack = await startSyncStack(sim);
  url = (await stack.startReplica()).url;
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const callsOf = (counters: Counters, realmId: string) =>
  Object.values(counters[realmId] ?? {}).reduce((sum, e) => sum + (e?.calls ?? 0), 0);

const runEvents = async (type: string) =>
  (await stack.readAll(topics.syncRuns))
    .map((m) => m.value)
    .filter((v): v is AnyEnvelope => v !== null && v.type === type);

describe('the error rows through the API', () => {
  it('lists and filters a run’s poisoned records; a retry by API costs one call and closes the row, retry-errors closes the rest', {
    timeout: 240_000,
  }, async () => {
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    const token = await orgToken(orgId);
    const ids = (entity: string) =>
      simulatorRecords(sim, realmId, entity).then((m) => [...m.keys()].sort((x, y) => Number(x) - Number(y)));
    const [customers, invoices] = [await ids('Customer'), await ids('Invoice')];
    const poisoned = [
      { entity: 'Customer', recordId: customers[10] as string },
      { entity: 'Customer', recordId: customers[40] as string },
      { entity: 'Invoice', recordId: invoices[20] as string },
    ];
    for (const p of poisoned) await sim.addFault({ kind: 'poison', realmId, ...p, code: '4002' });
    const connectionId = await stack.connect(realmId, orgId);
    const load = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 180_000);
    await stack.drained();
    // The small company's counts fit a batch answer: its entities were asked whole in a `/batch` call (after
    // the one that counted them), whose poisoned items the load then paged to narrow down.
    assert.equal((await sim.counters())[realmId]?.batch?.calls, 2, 'the counts, then the whole windows');

    // Listing and filters, each counted against the table.
    const list = async (query: string) => {
      const answer = await callApi(url, 'GET', `/errors${query}`, { token });
      assert.equal(answer.status, 200, `/errors${query}`);
      return answer.body as { errors: Record<string, unknown>[]; nextCursor: string | null };
    };
    const all = await list(`?runId=${load.run_id}`);
    assert.equal(all.errors.length, 3, 'one row per poisoned record');
    for (const e of all.errors) {
      assert.deepEqual(
        [e.kind, e.category, e.code, e.retryable, e.open, e.connectionId, e.firstRunId],
        ['record', 'validation', '4002', true, true, connectionId, load.run_id],
      );
      assert.ok(typeof e.remediation === 'string' && e.remediation.length > 0);
    }
    assert.equal((await list(`?connectionId=${connectionId}&entity=Customer`)).errors.length, 2);
    assert.equal(
      (await list('?entity=Invoice&state=open&retryable=true&category=validation')).errors.length,
      1,
    );
    assert.equal((await list('?state=resolved')).errors.length, 0);
    assert.equal((await list('?retryable=false')).errors.length, 0);
    assert.equal((await list('?category=auth')).errors.length, 0);
    // Pages of one: every row once, none repeated, then no cursor.
    const paged: unknown[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await list(`?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.errors.map((e) => e.errorId));
      cursor = page.nextCursor;
    }
    assert.deepEqual(
      paged,
      all.errors.map((e) => e.errorId),
    );
    const bad = await callApi(url, 'GET', '/errors?retryable=maybe', { token });
    assert.deepEqual([bad.status, bad.body.code], [400, 'invalid_request']);
    assert.match(bad.body.title ?? bad.body.detail ?? '', /retryable/);

    // The customer fixed its data: retry one record through the API.
    await sim.clearFaults();
    const one = all.errors.find((e) => e.entity === 'Customer') as { errorId: string };
    const shown = await callApi(url, 'GET', `/errors/${one.errorId}`, { token });
    assert.deepEqual([shown.status, shown.body.errorId], [200, one.errorId]);
    const before1 = callsOf(await sim.counters(), realmId);
    const asked = await callApi(url, 'POST', `/errors/${one.errorId}/retry`, { token });
    assert.equal(asked.status, 202);
    const commandId = asked.body.commandId as string;
    await waitFor(
      async () => (await callApi(url, 'GET', `/errors/${one.errorId}`, { token })).body.open === false,
      { timeoutMs: 30_000, what: 'the retried row closed' },
    );
    await stack.drained();
    assert.equal(callsOf(await sim.counters(), realmId) - before1, 1, 'exactly one call to Intuit');
    const closed = (await callApi(url, 'GET', `/errors/${one.errorId}`, { token })).body;
    assert.deepEqual([closed.resolvedBy, closed.resolvedRunId], ['retry', commandId]);
    assert.ok(
      poisoned.some((p) => p.recordId === closed.entityId),
      'the row names its record',
    );
    const retried = (await runEvents('SyncErrorRetried')).find(
      (e) => (e.data as { commandId: string }).commandId === commandId,
    )?.data as { outcome: string; apiCalls: number; errorId: string } | undefined;
    assert.deepEqual([retried?.outcome, retried?.apiCalls, retried?.errorId], ['resolved', 1, one.errorId]);

    // Every retryable open failure of the run: the other two, one call each.
    const before2 = callsOf(await sim.counters(), realmId);
    const runAsked = await callApi(url, 'POST', `/runs/${load.run_id}/retry-errors`, { token });
    assert.equal(runAsked.status, 202);
    await waitFor(
      async () =>
        (await runEvents('RunErrorsRetried')).some(
          (e) => (e.data as { commandId: string }).commandId === runAsked.body.commandId,
        ),
      { timeoutMs: 60_000, what: 'RunErrorsRetried' },
    );
    assert.equal(callsOf(await sim.counters(), realmId) - before2, 2, 'one call per record');
    assert.equal((await list(`?runId=${load.run_id}&state=open`)).errors.length, 0, 'every row closed');
    assert.equal((await list(`?runId=${load.run_id}&state=resolved`)).errors.length, 3, 'none deleted');
  });
});
