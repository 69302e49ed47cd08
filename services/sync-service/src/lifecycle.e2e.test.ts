import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventProducer } from '@qbo/event-bus';
import { createTestProducer } from '@qbo/event-bus/testing';
import {
  type AnyEnvelope,
  ConnectionDisconnected,
  createEventFactory,
  EraseConnectionData,
} from '@qbo/events';
import { waitFor } from '@qbo/testkit';
import { orgToken } from './testing/org-tokens.js';
import { compactedWithout, everyRow, purgeOf } from './testing/purge-checks.js';
import { apiCalls, type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { callApi } from './testing/sync-api.js';
import { newOrg, type SyncStack, startSyncStack, topics } from './testing/sync-stack.js';

/** Short enough for a test to outlive, long enough for a reconnect to land inside it. */
const GRACE_MS = 8_000;

let sim: SimulatorUnderTest;
let stack: SyncStack;
let producer: EventProducer;
let url = '';
const authService = createEventFactory({ source: 'auth-service' });
const operatorConsole = createEventFactory({ source: 'operator-console' });

interface Company {
  orgId: string;
  realmId: string;
  connectionId: string;
}

/** Connects a company and waits for its load and the delta after it. */
async function connected(realmId: string, orgId = newOrg()): Promise<Company> {
  const connectionId = await stack.connect(realmId, orgId);
  await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' });
  await stack.waitForRun(realmId, { mode: 'cdc', status: 'completed' });
  await stack.idle(realmId);
  return { orgId, realmId, connectionId };
}

/** What auth-service publishes when the org disconnects the company. */
async function disconnect(c: Company): Promise<void> {
  const sent = new Date();
  await producer.publish(
    authService(ConnectionDisconnected, {
      orgId: c.orgId,
      realmId: c.realmId,
      data: {
        connectionId: c.connectionId,
        realmId: c.realmId,
        reason: 'user_requested',
        revokedAtIntuit: true,
        disconnectedAt: new Date().toISOString(),
      },
    }),
  );
  await stack.waitForInbox(sent);
}

const valueText = (m: { value: unknown }) => (m.value === null ? '' : JSON.stringify(m.value));

before(async () => {
  sim = await startSimulator(['--seed', '41', '--companies', '3', '--records', '300']);
  // One partition, segments rolled after 100 ms, no compaction lag and a maximum lag of a second, so the
  // broker's cleaner (every 15 s) compacts the purge's tombstones within the test although they are a small
  // share of the topic; tombstones are kept a day.
  stack = await startSyncStack(sim, {
    compaction: {
      minCompactionLagMs: 0,
      segmentMs: 100,
      deleteRetentionMs: 86_400_000,
      maxCompactionLagMs: 1_000,
    },
  });
  url = (
    await stack.startReplica({
      SYNC_DISCONNECT_GRACE_MS: String(GRACE_MS),
      SYNC_PURGE_POLL_MS: '200',
      SYNC_PURGE_BATCH_SIZE: '40',
      SYNC_PAGE_SIZE: '20',
    })
  ).url;
  producer = await createTestProducer(stack.bus);
});

after(async () => {
  await producer?.disconnect();
  await stack?.stop();
  await sim?.stop();
});

describe('the data lifecycle', () => {
  it('resumes a company reconnected within the grace period with one CDC call, and purges nothing', async () => {
    const c = await connected(sim.realmIds[0] as string);
    const mirrored = await stack.db.query('select 1 from sync.mirror_record where realm_id = $1', [
      c.realmId,
    ]);
    await disconnect(c);
    assert.equal((await purgeOf(stack, c.realmId))?.status, 'pending', 'a purge waits for the grace period');
    const quiet = await sim.counters();

    const reconnectedAt = new Date();
    const again = { ...c, connectionId: await stack.connect(c.realmId, c.orgId) };
    const run = await stack.waitForRun(c.realmId, { status: 'completed', after: reconnectedAt }, 30_000);
    assert.equal(run.mode, 'cdc', 'a delta from the checkpoint, not a load');
    await stack.idle(c.realmId);
    const counters = await sim.counters();
    assert.equal(apiCalls(counters, c.realmId, 'cdc') - apiCalls(quiet, c.realmId, 'cdc'), 1, 'one CDC call');
    assert.equal(apiCalls(counters, c.realmId) - apiCalls(quiet, c.realmId), 1, 'and no other call');
    const loads = await stack.db.query(
      `select 1 from sync.sync_run where realm_id = $1 and mode = 'initial' and started_at > $2`,
      [c.realmId, reconnectedAt],
    );
    assert.equal(loads.length, 0, 'no reload');

    // Past the grace period the purge finds the company reconnected and leaves it alone.
    await waitFor(async () => (await purgeOf(stack, c.realmId))?.status === 'cancelled', {
      timeoutMs: GRACE_MS + 30_000,
      intervalMs: 200,
      what: 'the purge cancelled',
    });
    const kept = await stack.db.query('select 1 from sync.mirror_record where realm_id = $1', [c.realmId]);
    assert.equal(kept.length, mirrored.length, 'the mirror is whole');
    const [target] = await stack.db.query<{ status: string; connection_id: string }>(
      'select status, connection_id::text from sync.sync_target where realm_id = $1',
      [c.realmId],
    );
    assert.deepEqual(target, { status: 'active', connection_id: again.connectionId });
  });

  it('purges everything of a company once the grace period has ended, with a tombstone for every record', async () => {
    const c = await connected(sim.realmIds[1] as string);
    // Values only this company holds: a few customers renamed at Intuit, read by a delta.
    const marker = `purge-marker-${randomBytes(4).toString('hex')}`;
    const customers = await stack.db.query<{ entity_id: string }>(
      `select entity_id from sync.mirror_record where realm_id = $1 and entity = 'Customer' and deleted_at is null
       order by entity_id limit 3`,
      [c.realmId],
    );
    for (const [i, { entity_id }] of customers.entries()) {
      await sim.change(c.realmId, {
        op: 'update',
        entity: 'Customer',
        id: entity_id,
        data: { CompanyName: `${marker}-${i}` },
      });
    }
    const asked = new Date();
    await stack.requestSync(c.orgId, c.connectionId, 'incremental');
    await stack.waitForRun(c.realmId, { mode: 'cdc', status: 'completed', after: asked });
    await stack.idle(c.realmId);
    await stack.drained();
    const samples = [`${marker}-0`, `${marker}-1`, `${marker}-2`];
    const rowsBefore = await everyRow(stack);
    for (const s of samples)
      assert.ok(
        rowsBefore.some((r) => r.row.includes(s)),
        `${s} mirrored first`,
      );
    const live = await stack.db.query<{ entity: string; entity_id: string }>(
      'select entity, entity_id from sync.mirror_record where realm_id = $1 and deleted_at is null',
      [c.realmId],
    );
    const prefix = `${c.orgId}:${c.realmId}:`;
    const mirrorRows = await stack.db.query('select 1 from sync.mirror_record where realm_id = $1', [
      c.realmId,
    ]);

    await disconnect(c);
    await waitFor(async () => (await purgeOf(stack, c.realmId))?.status === 'completed', {
      timeoutMs: GRACE_MS + 60_000,
      intervalMs: 200,
      what: 'the purge completed',
    });
    await stack.drained();
    const purge = await purgeOf(stack, c.realmId);
    assert.equal(purge?.counts.records, mirrorRows.length);
    assert.equal(purge?.counts.tombstones, live.length);

    // Postgres: no table holds anything of the company but the purge's own audit row and its announcement.
    for (const { table, row } of await everyRow(stack)) {
      for (const s of samples) assert.ok(!row.includes(s), `${s} left in ${table}`);
      if (row.includes(c.realmId) || row.includes(c.connectionId)) {
        const announcement = table === 'outbox' && row.includes('ConnectionDataPurged');
        assert.ok(
          table === 'data_purge' || announcement,
          `the company left in ${table}: ${row.slice(0, 120)}`,
        );
      }
    }

    // The change log: a delete for every live record, then the announcement, and nothing of the company after.
    const log = await stack.readAll(topics.records);
    const ofCompany = log.filter((m) => m.value?.realmId === c.realmId);
    const last = ofCompany.at(-1)?.value as AnyEnvelope & { data: { reason: string; counts: unknown } };
    assert.equal(last.type, 'ConnectionDataPurged');
    assert.equal(last.data.reason, 'grace_expired');
    const deletes = ofCompany
      .map((m) => m.value as AnyEnvelope & { data: { reason?: string; entity: string; entityId: string } })
      .filter((v) => v.type === 'RecordDeleted' && v.data.reason === 'realm_detached');
    const detached = new Set(deletes.map((v) => `${v.data.entity}:${v.data.entityId}`));
    assert.deepEqual(
      [...detached].sort(),
      live.map((r) => `${r.entity}:${r.entity_id}`).sort(),
      'a realm_detached delete for every live record',
    );

    // The state topic: a tombstone is the last message of every key of the company…
    const state = await stack.readAll(topics.recordsState);
    const lastByKey = new Map<string, unknown>();
    for (const m of state) if (m.key?.startsWith(prefix)) lastByKey.set(m.key, m.value);
    for (const r of live) {
      assert.ok(
        lastByKey.has(`${prefix}${r.entity}:${r.entity_id}`),
        `${r.entity} ${r.entity_id} on the topic`,
      );
      assert.equal(
        lastByKey.get(`${prefix}${r.entity}:${r.entity_id}`),
        null,
        `${r.entity} ${r.entity_id} tombstoned`,
      );
    }
    // …and once the broker has compacted it (a message after segment.ms rolls the tombstones' segment), no value
    // of the company is left on it at all.
    await sleep(300);
    const compacted = await compactedWithout(stack, topics.recordsState, prefix);
    for (const m of compacted) {
      const text = m.message.value?.toString() ?? '';
      for (const s of samples) assert.ok(!text.includes(s), `${s} left on the state topic`);
    }
    // The change log keeps its history until its retention (KAFKA_TOPIC_RETENTION_MS): the sample values are
    // there only before the announcement.
    const announcedAt = log.findIndex((m) => m.value?.id === last.id);
    for (const m of log.slice(announcedAt + 1)) {
      for (const s of samples) assert.ok(!valueText(m).includes(s), `${s} on the log after the purge`);
    }
  });

  it('stops a running sync for an erasure, then erases, and writes nothing of the org after its event', async () => {
    const c = { orgId: newOrg(), realmId: sim.realmIds[2] as string, connectionId: '' };
    // Slow pages, so the load is still running when the erasure arrives: after the first of its 16 pages (of
    // 20 records), the rest take over 20 s, which a loaded machine's slowest erasure request stays well within.
    await sim.addFault({ kind: 'latency', realmId: c.realmId, endpoint: 'query', latencyMs: 1_500 });
    c.connectionId = await stack.connect(c.realmId, c.orgId);
    await waitFor(
      async () =>
        (await stack.db.query('select 1 from sync.mirror_record where realm_id = $1 limit 1', [c.realmId]))
          .length > 0,
      { timeoutMs: 30_000, intervalMs: 20, what: 'a first page of the load' },
    );
    const operator = await orgToken('platform-ops', { operator: true });
    const asked = await callApi(url, 'POST', `/orgs/${c.orgId}/erasure`, {
      token: operator,
      body: { reason: 'customer request' },
    });
    assert.equal(asked.status, 202);
    assert.equal(asked.body.status, 'pending');
    assert.equal(asked.body.requestedBy, 'operator:user-of-platform-ops');
    const again = await callApi(url, 'POST', `/orgs/${c.orgId}/erasure`, { token: operator });
    assert.equal(
      again.body.erasureId,
      asked.body.erasureId,
      'asking again while pending is the same erasure',
    );

    const stopped = await stack.waitForRun(c.realmId, { mode: 'initial', status: 'failed' }, 30_000);
    const [failure] = await stack.db.query<{ code: string }>(
      `select error->>'code' as code from sync.sync_run where run_id = $1`,
      [stopped.run_id],
    );
    assert.equal(failure?.code, 'connection_stopped');
    const erased = await waitFor(
      async () => {
        const view = await callApi(url, 'GET', `/erasures/${asked.body.erasureId}`, { token: operator });
        return view.body.status === 'completed' && view.body;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the erasure completed' },
    );
    assert.ok(erased.counts.records > 0, 'it removed the records loaded so far');
    assert.ok(
      new Date(erased.completedAt).getTime() >= new Date(stopped.finished_at as Date).getTime(),
      'the sync stopped first',
    );
    await sim.clearFaults();

    // Nothing of the org is written after the erasure's event: not by the stopped run, not by a webhook.
    await stack.notify(c.orgId, c.realmId, [
      { entity: 'Customer', entityId: '1', operation: 'Update', lastUpdated: new Date().toISOString() },
    ]);
    await sleep(2_000);
    await stack.drained();
    const messages = (await stack.readAll(topics.records)).filter((m) => m.value?.orgId === c.orgId);
    assert.equal(messages.at(-1)?.value?.type, 'ConnectionDataPurged', 'nothing of the org after its event');
    const [announcement] = await stack.db.query<{ seq: string }>(
      `select seq::text from sync.outbox where key = $1 and type = 'ConnectionDataPurged'`,
      [c.orgId],
    );
    assert.ok(announcement, 'the announcement in the outbox');
    const later = await stack.db.query(
      `select type from sync.outbox where seq > $1::bigint and (key = $2 or starts_with(key, $3))`,
      [announcement.seq, c.orgId, `${c.orgId}:`],
    );
    assert.deepEqual(later, [], 'no event of the org written after the announcement, on any topic');
    for (const table of [
      'mirror_record',
      'sync_run',
      'sync_error',
      'change_notice',
      'load_checkpoint',
      'qbo_api_log',
    ]) {
      const rows = await stack.db.query(`select 1 from sync.${table} where realm_id = $1`, [c.realmId]);
      assert.equal(rows.length, 0, `${table} holds nothing of the org`);
    }
    const [audit] = await stack.db.query<{ requested_by: string; requested_via: string; status: string }>(
      'select requested_by, requested_via, status from sync.data_erasure where erasure_id = $1',
      [asked.body.erasureId],
    );
    assert.deepEqual(audit, {
      requested_by: 'operator:user-of-platform-ops',
      requested_via: 'api',
      status: 'completed',
    });
  });

  it('erases by command once however often the command is delivered', async () => {
    // The company purged above, connected again: no checkpoint survived, so it is loaded anew.
    const reconnectedAt = new Date();
    const c = await connected(sim.realmIds[1] as string, newOrg());
    const load = await stack.waitForRun(c.realmId, {
      mode: 'initial',
      status: 'completed',
      after: reconnectedAt,
    });
    assert.ok(load.upserted > 0, 'a whole load after the purge');
    const command = operatorConsole(EraseConnectionData, {
      orgId: c.orgId,
      data: { connectionId: c.connectionId, requestedBy: 'operator-7', reason: 'test' },
    });
    const sent = new Date();
    await producer.publish([command, command]);
    await stack.waitForInbox(sent);
    await waitFor(
      async () =>
        (
          await stack.db.query(
            `select 1 from sync.data_erasure where erasure_id = $1 and status = 'completed'`,
            [command.id],
          )
        ).length > 0,
      { timeoutMs: 60_000, intervalMs: 200, what: 'the erasure by command completed' },
    );
    const erasures = await stack.db.query('select 1 from sync.data_erasure where org_id = $1', [c.orgId]);
    assert.equal(erasures.length, 1, 'one audit row');
    const mirror = await stack.db.query('select 1 from sync.mirror_record where org_id = $1', [c.orgId]);
    assert.equal(mirror.length, 0);
    const [target] = await stack.db.query<{ status: string }>(
      'select status from sync.sync_target where org_id = $1',
      [c.orgId],
    );
    assert.equal(target?.status, 'erased', 'not synced again until a newer connection event');
  });
});
