import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRandom } from '@qbo/qbo-simulator';
import type { ServiceProcess } from '@qbo/testkit';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { feedProblems, orgLog } from './testing/feed-check.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const COMPANIES = 4;
const LOAD_KILLS = 6;
const DELTA_KILLS = 5;
/**
 * Small pages make many transactions, so a kill lands between and inside them. One run at a time, and a delta
 * per company every second from the schedule: after a kill nothing waits on Kafka, whose group keeps a killed
 * member for its session timeout before a new one consumes.
 */
const ENV = {
  SYNC_PAGE_SIZE: '100',
  SYNC_LEASE_TTL_MS: '3000',
  SYNC_MAX_CONCURRENT_RUNS: '1',
  SYNC_INTERVAL_MS: '1000',
};

/** The simulator's seeded random: a failing trial is reproduced with CHAOS_SEED. */
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const { next: random } = createRandom(seed);

let sim: SimulatorUnderTest;
let stack: SyncStack;
let replica: ServiceProcess;
const orgs: { orgId: string; realmId: string }[] = [];

before(async () => {
  sim = await startSimulator(['--seed', '18', '--companies', String(COMPANIES), '--records', '5000']);
  stack = await startSyncStack(sim);
  replica = await stack.startReplica(ENV);
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills the replica with SIGKILL and starts a fresh one; returns the run modes in flight when it died. */
async function kill(): Promise<string[]> {
  const running = await stack.db.query<{ mode: string }>(
    // A killed run's row stays 'running': the run in flight is the newest of an org whose holder heartbeats.
    `select distinct on (r.org_id) r.mode from sync.sync_run r join sync.qbo_sync_sessions l using (org_id)
     where r.status = 'running' and l.heartbeat_at > now() - interval '700 milliseconds'
     order by r.org_id, r.started_at desc`,
  );
  assert.equal(await replica.stop('SIGKILL'), 'SIGKILL');
  replica = await stack.startReplica(ENV);
  return running.map((r) => r.mode);
}

async function assertConsistent(orgId: string, realmId: string, trial: string) {
  await stack.drained();
  const log = await orgLog(stack, orgId);
  assert.deepEqual(await feedProblems(stack, orgId, log), [], `${trial}: the change log`);
  assert.deepEqual(
    await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES),
    [],
    `${trial}: the mirror`,
  );
  return log;
}

const lastSeq = async (orgId: string) =>
  BigInt(
    (
      await stack.db.query<{ last_seq: string }>(
        'select last_seq::text from sync.org_seq where org_id = $1',
        [orgId],
      )
    )[0]?.last_seq ?? '0',
  );

describe(`sync-service killed with SIGKILL at random points (CHAOS_SEED=${seed})`, () => {
  it('resumes interrupted loads: mirror equal, every version on the log, no seq gap', {
    timeout: 300_000,
  }, async (t) => {
    for (const realmId of sim.realmIds) orgs.push({ orgId: newOrg(), realmId });
    const asked = new Date();
    for (const o of orgs) await stack.connect(o.realmId, o.orgId);
    await waitFor(
      async () =>
        (await stack.db.query('select 1 from sync.sync_target where updated_at >= $1', [asked])).length ===
        orgs.length,
      { timeoutMs: 30_000, what: 'every connection received' },
    );
    let duringLoads = 0;
    for (let i = 0; i < LOAD_KILLS; i++) {
      const delayMs = 300 + Math.round(random() * 2_500);
      await sleep(delayMs);
      const modes = await kill();
      if (modes.includes('initial')) duringLoads++;
      t.diagnostic(`load kill ${i} after ${delayMs} ms, runs in flight: ${modes.join(', ') || 'none'}`);
    }
    assert.ok(duringLoads >= LOAD_KILLS - 1, `${duringLoads} kills landed during a load`);
    for (const o of orgs) {
      await stack.waitForRun(o.realmId, { mode: 'initial', status: 'completed' }, 120_000);
    }
    for (const o of orgs) await assertConsistent(o.orgId, o.realmId, `org ${o.orgId}`);

    // Every run a killed replica left marked running was closed by the org's next run, and said so on the feed.
    const stale = await stack.db.query(
      `select r.run_id from sync.sync_run r where r.status = 'running' and exists
         (select 1 from sync.sync_run later where later.org_id = r.org_id and later.started_at > r.started_at)`,
    );
    assert.deepEqual(stale, [], 'no run stays running once a later run of its org started');
    const interrupted = await stack.db.query<{ run_id: string }>(
      `select run_id::text from sync.sync_run where error->>'code' = 'run_interrupted' order by run_id`,
    );
    assert.ok(interrupted.length >= duringLoads, `${interrupted.length} interrupted runs closed`);
    const failedEvents = await stack.db.query<{ run_id: string }>(
      `select distinct payload::jsonb->'data'->>'syncRunId' as run_id from sync.outbox
       where type = 'SyncFailed' and payload::jsonb->'data'->'error'->>'code' = 'run_interrupted'
       order by 1`,
    );
    assert.deepEqual(failedEvents, interrupted, 'one SyncFailed per interrupted run');
  });

  it("resumes interrupted deltas: every changed record's new version on the log", {
    timeout: 300_000,
  }, async (t) => {
    const { orgId, realmId } = orgs[0] as (typeof orgs)[number];
    for (let i = 0; i < DELTA_KILLS; i++) {
      // Beyond the CDC cap of one call, so the delta narrows and writes in several transactions.
      const rows = await stack.db.query<{ entity: string; entity_id: string }>(
        `select entity, entity_id from sync.mirror_record where realm_id = $1 and deleted_at is null
           and entity in ('Customer', 'Invoice', 'Payment') order by random() limit 1100`,
        [realmId],
      );
      // A deleted payment moves its customer's balance without a new version (as at Intuit), so the bulk then
      // edits that customer, whose new version carries the balance.
      const doomed = rows.filter((r) => r.entity === 'Payment').slice(0, 5);
      const payers = await stack.db.query<{ id: string }>(
        `select distinct payload->'CustomerRef'->>'value' as id from sync.mirror_record
         where realm_id = $1 and entity = 'Payment' and entity_id = any($2::text[])`,
        [realmId, doomed.map((r) => r.entity_id)],
      );
      const edits = [
        ...rows.filter(
          (r) => !doomed.includes(r) && !payers.some((p) => r.entity === 'Customer' && p.id === r.entity_id),
        ),
        ...payers.map((p) => ({ entity: 'Customer', entity_id: p.id })),
      ];
      const seqBefore = await lastSeq(orgId);
      await sim.bulk(realmId, [
        ...doomed.map((r) => ({ op: 'delete', entity: r.entity, id: r.entity_id })),
        ...edits.map((r) => ({
          op: 'update',
          entity: r.entity,
          id: r.entity_id,
          data: { [r.entity === 'Customer' ? 'CompanyName' : 'PrivateNote']: `t${i}-${r.entity_id}` },
        })),
      ]);
      const changedAt = new Date();
      const delayMs = Math.round(random() * 2_000);
      await sleep(delayMs);
      const modes = await kill();
      const trial = `delta kill ${i} after ${delayMs} ms, runs in flight: ${modes.join(', ') || 'none'}`;
      t.diagnostic(trial);
      await stack
        .waitForRun(realmId, { mode: 'cdc', status: 'completed', after: changedAt }, 120_000)
        .catch(async (err: unknown) => {
          const runs = await stack.db.query(
            'select mode, status, error, started_at from sync.sync_run where realm_id = $1 and started_at > $2',
            [realmId, changedAt],
          );
          throw new Error(`${trial}: ${(err as Error).message}; runs since: ${JSON.stringify(runs)}`);
        });
      const log = await assertConsistent(orgId, realmId, trial);

      const key = (d: { entity?: string; entityId?: string }) => `${d.entity}/${d.entityId}`;
      const fresh = log.filter((e) => BigInt((e.data as { seq: string }).seq) > seqBefore);
      const changed = new Set(fresh.map((e) => key(e.data as never)));
      const missing = [...edits, ...doomed]
        .map((r) => `${r.entity}/${r.entity_id}`)
        .filter((k) => !changed.has(k));
      assert.deepEqual(missing, [], `${trial}: each changed record's new version on the log`);
      const deleted = fresh.filter((e) => e.type === 'RecordDeleted').map((e) => key(e.data as never));
      assert.deepEqual(
        [...new Set(deleted)].sort(),
        doomed.map((r) => `${r.entity}/${r.entity_id}`).sort(),
        `${trial}: each delete on the log`,
      );
    }
    for (const o of orgs) await assertConsistent(o.orgId, o.realmId, `org ${o.orgId} at the end`);
  });
});
