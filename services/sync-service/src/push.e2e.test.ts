import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AnyEnvelope, createEventFactory, DeleteRecord, UpsertRecord } from '@qbo/events';
import { type ServiceProcess, waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences, simulatorRecords } from './testing/compare.js';
import { feedProblems, orgLog } from './testing/feed-check.js';
import { answeredCalls, lastSeq } from './testing/feed-reading.js';
import { orgToken } from './testing/org-tokens.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

/** A window long enough for a burst published in one send to be recorded whole before the worker claims it. */
const ENV = { SYNC_PUSH_WINDOW_MS: '2000' };

let sim: SimulatorUnderTest;
let stack: SyncStack;
let replica: ServiceProcess;
let realmId: string;
let orgId: string;
let connectionId: string;
const commands = createEventFactory({ source: 'push-test' });

before(async () => {
  sim = await startSimulator(['--seed', '21', '--companies', '1', '--records', '300']);
  stack = await startSyncStack(sim);
  replica = await stack.startReplica(ENV);
  realmId = sim.realmIds[0] as string;
  orgId = newOrg();
  connectionId = await stack.connect(realmId, orgId);
  await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const create = (entity: string, payload: Record<string, unknown>) =>
  commands(UpsertRecord, { orgId, data: { connectionId, entity, sparse: true, payload } });

const publish = (...events: AnyEnvelope[]) => stack.publish(events);

/** Waits until every command has an outcome; returns their rows. */
async function outcomes(ids: readonly string[], timeoutMs = 60_000) {
  let rows: { command_id: string; status: string; applied: string | null; code: string | null }[] = [];
  await waitFor(
    async () => {
      rows = await stack.db.query(
        `select command_id::text, status, applied, code from sync.sync_push
         where command_id = any($1::uuid[]) and status <> 'pending'`,
        [ids],
      );
      return rows.length === ids.length;
    },
    { timeoutMs, intervalMs: 100, what: `${ids.length} push outcomes` },
  );
  return rows;
}

/** The push results on the sync-runs topic, by command id. */
async function results(): Promise<Map<string, AnyEnvelope[]>> {
  await stack.drained();
  const out = new Map<string, AnyEnvelope[]>();
  for (const m of await stack.readAll(topics.syncRuns)) {
    const v = m.value;
    if (!v || (v.type !== 'RecordPushed' && v.type !== 'RecordPushFailed')) continue;
    const id = (v.data as { commandId: string }).commandId;
    out.set(id, [...(out.get(id) ?? []), v]);
  }
  return out;
}

const named = async (entity: string, field: string, value: string) =>
  [...(await simulatorRecords(sim, realmId, entity)).values()].filter((r) => r[field] === value);

const writes = async () => answeredCalls(await sim.counters(), realmId, 'write');

describe('write-back to QuickBooks', () => {
  it('a create delivered 3 times, and again after a kill -9 between the answer and the commit, writes one record each', {
    timeout: 120_000,
  }, async () => {
    const once = create('Customer', { DisplayName: 'Pushed Thrice Ltd' });
    await publish(once, once, once);
    const [first] = await outcomes([once.id]);
    assert.equal(first?.status, 'pushed');
    assert.equal(first?.applied, 'created');

    // The next commit of this command's outcome is held inside its transaction, after Intuit has answered.
    const killed = create('Customer', { DisplayName: 'Pushed Across A Crash Ltd' });
    await stack.db.query(`create or replace function sync.hold_push() returns trigger language plpgsql as $$
      begin
        if new.command_id = '${killed.id}'::uuid and new.status <> 'pending' then
          perform pg_sleep(60);
          raise exception 'held';
        end if;
        return new;
      end $$`);
    await stack.db.query(
      'create trigger hold_push before update on sync.sync_push for each row execute function sync.hold_push()',
    );
    const writesBefore = await writes();
    await publish(killed);
    await waitFor(
      async () =>
        (
          await stack.db.query(
            "select 1 from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'",
          )
        ).length > 0,
      { timeoutMs: 30_000, intervalMs: 50, what: 'the outcome commit held' },
    );
    assert.equal(await writes(), writesBefore + 1, 'Intuit answered the create');
    assert.equal(await replica.stop('SIGKILL'), 'SIGKILL');
    await stack.db.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'",
    );
    await stack.db.query('drop trigger hold_push on sync.sync_push');
    const pending = await stack.db.query<{ status: string }>(
      'select status from sync.sync_push where command_id = $1',
      [killed.id],
    );
    assert.equal(pending[0]?.status, 'pending', 'the outcome was never committed');

    replica = await stack.startReplica(ENV);
    await publish(killed);
    const [after] = await outcomes([killed.id]);
    assert.equal(after?.status, 'pushed');
    assert.equal(await writes(), writesBefore + 2, 'the create was sent again once, and Intuit replayed it');

    assert.equal((await named('Customer', 'DisplayName', 'Pushed Thrice Ltd')).length, 1);
    assert.equal((await named('Customer', 'DisplayName', 'Pushed Across A Crash Ltd')).length, 1);
    const byCommand = await results();
    assert.deepEqual(
      byCommand.get(once.id)?.map((e) => e.type),
      ['RecordPushed'],
    );
    assert.deepEqual(
      byCommand.get(killed.id)?.map((e) => e.type),
      ['RecordPushed'],
    );
  });

  it('refuses an update with a stale SyncToken as a conflict carrying both versions, changing nothing', {
    timeout: 60_000,
  }, async () => {
    const [seen] = await named('Customer', 'DisplayName', 'Pushed Thrice Ltd');
    assert.ok(seen);
    const edited = await sim.change(realmId, {
      op: 'update',
      entity: 'Customer',
      id: String(seen.Id),
      data: { CompanyName: 'Edited In QuickBooks' },
    });
    const writesBefore = await writes();
    const update = commands(UpsertRecord, {
      orgId,
      data: {
        connectionId,
        entity: 'Customer',
        entityId: String(seen.Id),
        syncToken: String(seen.SyncToken),
        sparse: true,
        payload: { CompanyName: 'Written By The Caller' },
      },
    });
    await publish(update);
    const [row] = await outcomes([update.id]);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.code, '5010');
    assert.equal(await writes(), writesBefore + 1, 'one write, refused, and never sent again');

    const [event] = (await results()).get(update.id) ?? [];
    const data = event?.data as {
      error: { category: string };
      currentSyncToken: string;
      currentRecord: Record<string, unknown>;
    };
    assert.equal(event?.type, 'RecordPushFailed');
    assert.equal(data.error.category, 'conflict');
    assert.equal(data.currentSyncToken, edited.SyncToken);
    assert.equal(data.currentRecord.CompanyName, 'Edited In QuickBooks');
    const [now] = await named('Customer', 'DisplayName', 'Pushed Thrice Ltd');
    assert.equal(now?.SyncToken, edited.SyncToken);
    assert.equal(now?.CompanyName, 'Edited In QuickBooks');
  });

  it('sends 90 commands of one org in at most 3 batch calls, one bad item failing alone', {
    timeout: 120_000,
  }, async () => {
    const before = answeredCalls(await sim.counters(), realmId, 'batch');
    const writesBefore = await writes();
    const burst = Array.from({ length: 90 }, (_, i) =>
      create('Vendor', { DisplayName: i === 44 ? 'Pushed Thrice Ltd' : `Batch Vendor ${i}` }),
    );
    await publish(...burst);
    const rows = await outcomes(burst.map((c) => c.id));
    const batches = answeredCalls(await sim.counters(), realmId, 'batch') - before;
    assert.ok(batches <= 3, `${batches} batch calls`);
    assert.equal(await writes(), writesBefore, 'no single writes');
    const failed = rows.filter((r) => r.status === 'failed');
    assert.deepEqual(
      failed.map((r) => [r.command_id, r.code]),
      [[burst[44]?.id, '6240']],
    );
    const byCommand = await results();
    const bad = byCommand.get(burst[44]?.id as string)?.[0];
    assert.equal((bad?.data as { field?: string } | undefined)?.field, 'payload.DisplayName');
    for (const [i, c] of burst.entries()) {
      if (i === 44) continue;
      const events = byCommand.get(c.id) ?? [];
      assert.deepEqual(
        events.map((e) => e.type),
        ['RecordPushed'],
      );
      assert.equal((await named('Vendor', 'DisplayName', `Batch Vendor ${i}`)).length, 1);
    }
  });

  it('deletes as the entity allows, saying which: a name-list record deactivated, an invoice voided', {
    timeout: 60_000,
  }, async () => {
    const [vendor] = await named('Vendor', 'DisplayName', 'Batch Vendor 0');
    const invoice = [...(await simulatorRecords(sim, realmId, 'Invoice')).values()][0];
    assert.ok(vendor && invoice);
    const deactivate = commands(DeleteRecord, {
      orgId,
      data: {
        connectionId,
        entity: 'Vendor',
        entityId: String(vendor.Id),
        syncToken: String(vendor.SyncToken),
      },
    });
    const voidIt = commands(DeleteRecord, {
      orgId,
      data: {
        connectionId,
        entity: 'Invoice',
        entityId: String(invoice.Id),
        syncToken: String(invoice.SyncToken),
        void: true,
      },
    });
    await publish(deactivate, voidIt);
    const rows = await outcomes([deactivate.id, voidIt.id]);
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.command_id, r.applied])), {
      [deactivate.id]: 'deactivated',
      [voidIt.id]: 'voided',
    });
    const inactive = (await simulatorRecords(sim, realmId, 'Vendor')).get(String(vendor.Id));
    assert.equal(inactive?.Active, false);
    const voided = (await simulatorRecords(sim, realmId, 'Invoice')).get(String(invoice.Id));
    assert.equal(voided?.TotalAmt, 0);
  });

  it('refuses a payload that does not fit, and a paused company, before any call', {
    timeout: 60_000,
  }, async () => {
    const writesBefore = await writes();
    const bad = create('Customer', { displayName: 'lower case is no QuickBooks field' });
    await publish(bad);
    const pause = await callApi(replica.url, 'POST', `/connections/${connectionId}/pause`, {
      token: await orgToken(orgId),
    });
    assert.equal(pause.status, 200, JSON.stringify(pause.body));
    const paused = create('Customer', { DisplayName: 'While Paused Ltd' });
    await publish(paused);
    const rows = await outcomes([bad.id, paused.id]);
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.command_id, r.code])), {
      [bad.id]: 'payload_invalid',
      [paused.id]: 'connection_paused',
    });
    const byCommand = await results();
    assert.equal(
      (byCommand.get(bad.id)?.[0]?.data as { field?: string } | undefined)?.field,
      'payload.displayName',
    );
    assert.equal(await writes(), writesBefore);
    const resume = await callApi(replica.url, 'POST', `/connections/${connectionId}/resume`, {
      token: await orgToken(orgId),
    });
    assert.equal(resume.status, 200);

    const listed = await callApi(replica.url, 'GET', `/pushes?connectionId=${connectionId}&status=failed`, {
      token: await orgToken(orgId),
    });
    assert.equal(listed.status, 200);
    const codes = (listed.body.pushes as { commandId: string; code: string }[]).map((p) => [
      p.commandId,
      p.code,
    ]);
    assert.ok(codes.some(([id, code]) => id === paused.id && code === 'connection_paused'));
    const one = await callApi(replica.url, 'GET', `/pushes/${bad.id}`, { token: await orgToken(orgId) });
    assert.equal(one.body.result.field, 'payload.displayName');
    const foreign = await callApi(replica.url, 'GET', `/pushes/${bad.id}`, {
      token: await orgToken(newOrg()),
    });
    assert.equal(foreign.status, 404);
  });

  it('a push during a running pull: no lost update, each version once on the feed, seq contiguous', {
    timeout: 180_000,
  }, async () => {
    const [customer] = await named('Customer', 'DisplayName', 'Pushed Across A Crash Ltd');
    assert.ok(customer);
    const asked = new Date();
    await stack.requestSync(orgId, connectionId, 'full');
    await waitFor(
      async () =>
        (
          await stack.db.query(
            "select 1 from sync.sync_run where org_id = $1 and status = 'running' and started_at >= $2",
            [orgId, asked],
          )
        ).length > 0,
      { timeoutMs: 30_000, intervalMs: 20, what: 'the pull running' },
    );
    const update = commands(UpsertRecord, {
      orgId,
      data: {
        connectionId,
        entity: 'Customer',
        entityId: String(customer.Id),
        syncToken: String(customer.SyncToken),
        sparse: true,
        payload: { CompanyName: 'Pushed During A Pull' },
      },
    });
    await publish(update);
    const [row] = await outcomes([update.id], 120_000);
    assert.equal(row?.status, 'pushed');
    await stack.waitForRun(realmId, { mode: 'initial', status: 'completed', after: asked });
    const since = new Date();
    await stack.requestSync(orgId, connectionId, 'incremental');
    await stack.waitForRun(realmId, { status: 'completed', after: since });
    await stack.drained();

    const log = await orgLog(stack, orgId);
    assert.deepEqual(await feedProblems(stack, orgId, log), []);
    assert.deepEqual(await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES), []);
    const pushed = (await results()).get(update.id)?.[0]?.data as { syncToken: string; seq: string };
    const versions = log.filter((e) => {
      const d = e.data as {
        entity?: string;
        entityId?: string;
        source?: { syncToken?: string };
        op?: string;
      };
      return (
        d.entity === 'Customer' &&
        d.entityId === String(customer.Id) &&
        d.source?.syncToken === pushed.syncToken &&
        d.op !== 'r'
      );
    });
    assert.deepEqual(
      versions.map((e) => (e.data as { seq: string }).seq),
      [pushed.seq],
      'the pushed version once, from the push',
    );
    assert.equal(BigInt(log.length), await lastSeq(stack, orgId));
  });
});
