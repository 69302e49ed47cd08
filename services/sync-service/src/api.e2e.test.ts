import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { orgToken } from './testing/org-tokens.js';
import { apiCalls, type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

let sim: SimulatorUnderTest;
let stack: SyncStack;
let url = '';
const a = { orgId: newOrg(), realmId: '', connectionId: '', loadRunId: '' };
const b = { orgId: newOrg(), realmId: '', connectionId: '', loadRunId: '' };

before(async () => {
  // Small pages under Intuit's rate limits: a load takes seconds, long enough to pause one midway.
  sim = await startSimulator(['--seed', '29', '--companies', '3', '--records', '300']);
  stack = await startSyncStack(sim);
  url = (await stack.startReplica({ SYNC_MIN_INTERVAL_MS: '1000', SYNC_PAGE_SIZE: '20' })).url;
  for (const [org, realmId] of [
    [a, sim.realmIds[0]],
    [b, sim.realmIds[1]],
  ] as const) {
    org.realmId = realmId as string;
    org.connectionId = await stack.connect(org.realmId, org.orgId);
    org.loadRunId = (await stack.waitForRun(org.realmId, { mode: 'initial', status: 'completed' })).run_id;
    // The load is followed at once by a delta from the instant it read up to.
    await stack.waitForRun(org.realmId, { mode: 'cdc', status: 'completed' });
    await stack.idle(org.realmId);
  }
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

describe('sync API', () => {
  it("lists the org's runs newest first, filtered, and paged by cursor without a gap or a repeat", async () => {
    const token = await orgToken(a.orgId);
    const expected = (
      await stack.db.query<{ run_id: string }>(
        'select run_id::text from sync.sync_run where org_id = $1 order by started_at desc, run_id desc',
        [a.orgId],
      )
    ).map((r) => r.run_id);
    assert.ok(expected.length >= 2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await callApi(url, 'GET', `/runs?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token });
      assert.equal(page.status, 200);
      assert.ok(page.body.runs.length <= 1);
      seen.push(...page.body.runs.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, expected);

    const loads = await callApi(url, 'GET', `/runs?mode=initial&connectionId=${a.connectionId}`, { token });
    assert.deepEqual(
      loads.body.runs.map((r: { id: string }) => r.id),
      [a.loadRunId],
    );
    const running = await callApi(url, 'GET', `/runs?status=running&realmId=${a.realmId}`, { token });
    assert.deepEqual(running.body.runs, []);
  });

  it('reads one run: status, mode, trigger, progress against the estimate, counts, calls and duration', async () => {
    const answer = await callApi(url, 'GET', `/runs/${a.loadRunId}`, { token: await orgToken(a.orgId) });
    assert.equal(answer.status, 200);
    const [row] = await stack.db.query<{
      upserted: number;
      unchanged: number;
      deleted: number;
      pages: number;
      api_calls: number;
      estimate_total: number;
      ms: number;
    }>(
      `select upserted, unchanged, deleted, pages, api_calls, estimate_total,
         (extract(epoch from finished_at - started_at) * 1000)::float8 as ms from sync.sync_run where run_id = $1`,
      [a.loadRunId],
    );
    const v = answer.body;
    assert.equal(v.status, 'completed');
    assert.equal(v.mode, 'initial');
    assert.equal(v.trigger, 'connection');
    assert.equal(v.connectionId, a.connectionId);
    assert.deepEqual(v.counts, { upserted: row?.upserted, deleted: row?.deleted, unchanged: row?.unchanged });
    assert.ok(v.counts.upserted > 0);
    assert.equal(v.progress.pages, row?.pages);
    assert.equal(v.progress.records, (row?.upserted ?? 0) + (row?.deleted ?? 0) + (row?.unchanged ?? 0));
    assert.equal(v.progress.estimate, row?.estimate_total);
    assert.equal(v.progress.percent, 100);
    assert.equal(v.apiCalls, row?.api_calls);
    assert.ok(Math.abs(v.durationMs - (row?.ms ?? 0)) <= 1, 'duration from the row');
    assert.equal(v.error, null);
  });

  it("lists a run's calls to Intuit, paged, and together the runs' calls are every call the simulator counted", async () => {
    const token = await orgToken(a.orgId);
    const runs = (await callApi(url, 'GET', `/runs?realmId=${a.realmId}`, { token })).body.runs as {
      id: string;
    }[];
    let listed = 0;
    for (const run of runs) {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await callApi(
          url,
          'GET',
          `/runs/${run.id}/api-calls?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          { token },
        );
        assert.equal(page.status, 200);
        for (const call of page.body.calls) {
          assert.ok(call.path.includes(a.realmId), 'a call to the run’s realm');
          assert.equal(typeof call.durationMs, 'number');
          const [row] = await stack.db.query<{ trace_id: string | null }>(
            'select trace_id from sync.qbo_api_log where id = $1',
            [call.id],
          );
          assert.equal(call.traceId, row?.trace_id, 'the call’s trace id, as logged');
          ids.push(call.id);
        }
        cursor = page.body.nextCursor;
      } while (cursor);
      const [logged] = await stack.db.query<{ n: number }>(
        'select count(*)::int as n from sync.qbo_api_log where correlation_id = $1',
        [run.id],
      );
      assert.equal(ids.length, logged?.n, `every logged call of ${run.id}`);
      assert.equal(new Set(ids).size, ids.length, 'no call twice');
      listed += ids.length;
    }
    assert.equal(listed, apiCalls(await sim.counters(), a.realmId));
  });

  it("shows an operator every org's runs and companies, and narrows them to one org on request", async () => {
    const operator = await orgToken('platform-ops', { operator: true });
    const all = await callApi(url, 'GET', '/runs?limit=200', { token: operator });
    const orgs = new Set(all.body.runs.map((r: { orgId: string }) => r.orgId));
    assert.ok(orgs.has(a.orgId) && orgs.has(b.orgId));
    const onlyB = await callApi(url, 'GET', `/runs?orgId=${b.orgId}`, { token: operator });
    assert.ok(onlyB.body.runs.length > 0);
    assert.ok(onlyB.body.runs.every((r: { orgId: string }) => r.orgId === b.orgId));
    assert.equal((await callApi(url, 'GET', `/runs/${a.loadRunId}`, { token: operator })).status, 200);
    const companies = await callApi(url, 'GET', '/connections', { token: operator });
    const ids = companies.body.connections.map((c: { connectionId: string }) => c.connectionId);
    assert.ok(ids.includes(a.connectionId) && ids.includes(b.connectionId));
    // An operator role is read from the signed token only: the same org without it sees nothing of others.
    const plain = await callApi(url, 'GET', '/runs?limit=200', { token: await orgToken('platform-ops') });
    assert.deepEqual(plain.body.runs, []);
  });

  it('refuses bad input with 400 naming the field, and asks for nothing', async () => {
    const token = await orgToken(a.orgId);
    const sync = `/connections/${a.connectionId}/sync`;
    const cases: [string, string, unknown, string][] = [
      ['POST', sync, { mode: 'resync' }, 'mode'],
      ['POST', sync, { mode: 'reconciliation', entity: 'Bill' }, 'entity'],
      ['POST', sync, { mode: 'full', entity: 'Bill' }, 'entity'],
      ['POST', sync, { mode: 'incremental', entity: 'Customer' }, 'entity'],
      ['POST', sync, { mode: 'incremental', extra: true }, 'request'],
      ['PUT', `/connections/${a.connectionId}/schedule`, { intervalMs: 999 }, 'intervalMs'],
      ['GET', '/runs?status=finished', undefined, 'status'],
      ['GET', '/runs?cursor=Zm9v', undefined, 'cursor'],
      ['GET', '/runs?limit=1000', undefined, 'limit'],
    ];
    const [before] = await stack.db.query(
      'select wanted_at, interval_ms from sync.sync_target where realm_id = $1',
      [a.realmId],
    );
    for (const [method, path, body, field] of cases) {
      const answer = await callApi(url, method, path, { token, ...(body === undefined ? {} : { body }) });
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(answer.body.code, 'invalid_request');
      assert.ok(answer.body.title.startsWith(`Invalid ${field}`), answer.body.title);
    }
    const notJson = await fetch(`${url}${sync}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"mode":',
    });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { title: string }).title, /^Invalid body/);
    const [after] = await stack.db.query(
      'select wanted_at, interval_ms from sync.sync_target where realm_id = $1',
      [a.realmId],
    );
    assert.deepEqual(after, before);
  });

  it('runs an incremental sync, a reconciliation of one entity and a full load when asked, each as a command', async () => {
    const token = await orgToken(a.orgId);
    const ask = async (body: Record<string, string>) => {
      const at = new Date();
      const answer = await callApi(url, 'POST', `/connections/${a.connectionId}/sync`, { token, body });
      assert.equal(answer.status, 202, JSON.stringify(answer.body));
      return at;
    };
    const viewOf = async (runId: string) =>
      (await callApi(url, 'GET', `/runs/${runId}`, { token })).body as {
        trigger: string;
        entities: string[];
        generation: number | null;
      };

    let at = await ask({ mode: 'incremental' });
    const delta = await stack.waitForRun(a.realmId, { mode: 'cdc', status: 'completed', after: at });
    assert.equal((await viewOf(delta.run_id)).trigger, 'command');
    await stack.idle(a.realmId);

    at = await ask({ mode: 'reconciliation', entity: 'Customer' });
    const reconciliation = await stack.waitForRun(a.realmId, {
      mode: 'reconciliation',
      status: 'completed',
      after: at,
    });
    assert.deepEqual((await viewOf(reconciliation.run_id)).entities, ['Customer']);
    await stack.idle(a.realmId);

    at = await ask({ mode: 'full' });
    const load = await stack.waitForRun(a.realmId, { mode: 'initial', status: 'completed', after: at });
    const view = await viewOf(load.run_id);
    assert.equal(view.trigger, 'command');
    assert.equal(view.generation, 2, 'a new generation of the company');
    await stack.waitForRun(a.realmId, { mode: 'cdc', status: 'completed', after: load.finished_at as Date });
    await stack.idle(a.realmId);
  });

  it('makes no call for a paused company while a webhook arrives, and catches up with one CDC call on resume', async () => {
    const token = await orgToken(a.orgId);
    await stack.idle(a.realmId);
    const paused = await callApi(url, 'POST', `/connections/${a.connectionId}/pause`, { token });
    assert.equal(paused.status, 200);
    assert.equal(paused.body.paused, true);
    const quiet = await sim.counters();

    const [row] = await stack.db.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer' and deleted_at is null
       order by entity_id limit 1`,
      [a.realmId],
    );
    const id = row?.entity_id as string;
    const changed = await sim.change(a.realmId, {
      op: 'update',
      entity: 'Customer',
      id,
      data: { CompanyName: `while-paused-${id}` },
    });
    const lastUpdated = (changed.MetaData as { LastUpdatedTime: string }).LastUpdatedTime;
    const sent = new Date();
    await stack.notify(a.orgId, a.realmId, [
      { entity: 'Customer', entityId: id, operation: 'Update', lastUpdated },
    ]);
    await stack.waitForInbox(sent);
    const notices = await stack.db.query(
      `select 1 from sync.change_notice where realm_id = $1 and entity = 'Customer' and entity_id = $2
         and last_updated = $3::timestamptz`,
      [a.realmId, id, lastUpdated],
    );
    assert.equal(notices.length, 1, 'the notification is recorded while paused');
    const refused = await callApi(url, 'POST', `/connections/${a.connectionId}/sync`, {
      token,
      body: { mode: 'incremental' },
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'connection_paused');
    // Past the webhook debounce (1 s) and thirty worker polls.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.deepEqual((await sim.counters())[a.realmId], quiet[a.realmId], 'no call for the paused realm');
    const [runs] = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.sync_run where realm_id = $1 and started_at >= $2`,
      [a.realmId, sent],
    );
    assert.equal(runs?.n, 0, 'no run while paused');

    const resumedAt = new Date();
    const resumed = await callApi(url, 'POST', `/connections/${a.connectionId}/resume`, { token });
    assert.equal(resumed.status, 200);
    assert.equal(resumed.body.paused, false);
    const run = await stack.waitForRun(a.realmId, { status: 'completed', after: resumedAt }, 30_000);
    assert.equal(run.mode, 'cdc');
    const view = (await callApi(url, 'GET', `/runs/${run.run_id}`, { token })).body;
    assert.equal(view.trigger, 'resume');
    await stack.idle(a.realmId);
    const after = await sim.counters();
    assert.equal(apiCalls(after, a.realmId, 'cdc') - apiCalls(quiet, a.realmId, 'cdc'), 1, 'one CDC call');
    assert.equal(apiCalls(after, a.realmId) - apiCalls(quiet, a.realmId), 1, 'and nothing else');
    const [mirrored] = await stack.db.query<{ name: string }>(
      `select payload->>'CompanyName' as name from sync.mirror_record
       where realm_id = $1 and entity = 'Customer' and entity_id = $2`,
      [a.realmId, id],
    );
    assert.equal(mirrored?.name, `while-paused-${id}`, 'the change made while paused is mirrored');
  });

  it('stops a load in flight when its company is paused, with no further call, and finishes it on resume', async () => {
    const c = { orgId: newOrg(), realmId: sim.realmIds[2] as string };
    const token = await orgToken(c.orgId);
    const connectionId = await stack.connect(c.realmId, c.orgId);
    await waitFor(
      async () =>
        (await stack.db.query('select 1 from sync.mirror_record where realm_id = $1 limit 1', [c.realmId]))
          .length > 0,
      { timeoutMs: 30_000, intervalMs: 20, what: 'a first page of the load' },
    );
    const pausedAt = new Date();
    assert.equal((await callApi(url, 'POST', `/connections/${connectionId}/pause`, { token })).status, 200);
    const stopped = await stack.waitForRun(c.realmId, { mode: 'initial', status: 'failed' }, 15_000);
    const view = (await callApi(url, 'GET', `/runs/${stopped.run_id}`, { token })).body;
    assert.equal(view.error.code, 'sync_paused');
    assert.ok(
      new Date(view.finishedAt).getTime() - pausedAt.getTime() < 5_000,
      'stopped within a heartbeat or two',
    );
    const quiet = await sim.counters();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual((await sim.counters())[c.realmId], quiet[c.realmId], 'no call after the stop');

    const resumedAt = new Date();
    assert.equal((await callApi(url, 'POST', `/connections/${connectionId}/resume`, { token })).status, 200);
    const load = await stack.waitForRun(c.realmId, {
      mode: 'initial',
      status: 'completed',
      after: resumedAt,
    });
    assert.equal((await callApi(url, 'GET', `/runs/${load.run_id}`, { token })).body.trigger, 'resume');
    assert.deepEqual(
      await mirrorDifferences(stack, sim, c.realmId, DEFAULT_SYNC_ENTITIES),
      [],
      'the resumed load mirrors the company',
    );
  });

  it("syncs a company at its own interval once set, and shows it; null returns to the service's default", async () => {
    const token = await orgToken(b.orgId);
    const path = `/connections/${b.connectionId}/schedule`;
    const at = new Date();
    const set = await callApi(url, 'PUT', path, { token, body: { intervalMs: 2_000 } });
    assert.equal(set.status, 200);
    assert.equal(set.body.intervalMs, 2_000);
    assert.equal(set.body.intervalIsDefault, false);
    const first = await stack.waitForRun(b.realmId, { mode: 'cdc', status: 'completed', after: at }, 20_000);
    const second = await stack.waitForRun(
      b.realmId,
      { mode: 'cdc', status: 'completed', after: first.finished_at as Date },
      20_000,
    );
    for (const run of [first, second]) {
      const view = (await callApi(url, 'GET', `/runs/${run.run_id}`, { token })).body;
      assert.equal(view.trigger, 'schedule');
    }
    const reset = await callApi(url, 'PUT', path, { token, body: { intervalMs: null } });
    assert.equal(reset.body.intervalIsDefault, true);
    assert.equal(reset.body.intervalMs, 3_600_000);
  });
});
