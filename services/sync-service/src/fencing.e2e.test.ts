import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { DEFAULT_SYNC_ENTITIES } from './domain/entities.js';
import { mirrorDifferences } from './testing/compare.js';
import { feedProblems, orgLog } from './testing/feed-check.js';
import { type SimulatorUnderTest, startSimulator } from './testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from './testing/sync-stack.js';

const TTL_MS = 1_500;
const ENV = { SYNC_PAGE_SIZE: '100', SYNC_LEASE_TTL_MS: String(TTL_MS) };
let sim: SimulatorUnderTest;
let stack: SyncStack;

before(async () => {
  sim = await startSimulator(['--seed', '20', '--companies', '1', '--records', '5000']);
  stack = await startSyncStack(sim);
});

after(async () => {
  await stack?.stop();
  await sim?.stop();
});

interface LeaseRow {
  holder: string;
  fencing_token: string;
}
const lease = async (orgId: string) =>
  (
    await stack.db.query<LeaseRow>(
      'select holder, fencing_token::text from sync.qbo_sync_sessions where org_id = $1',
      [orgId],
    )
  )[0];

/** The record events a run put in the outbox (by seq: each also feeds the state topic), and its pages. */
async function writtenBy(runId: string) {
  const [events] = await stack.db.query<{ n: number }>(
    `select count(distinct payload::jsonb->'data'->>'seq')::int as n from sync.outbox
     where payload::jsonb->'data'->'source'->>'runId' = $1`,
    [runId],
  );
  const [run] = await stack.db.query<{ pages: number }>('select pages from sync.sync_run where run_id = $1', [
    runId,
  ]);
  return { events: events?.n ?? -1, pages: run?.pages ?? -1 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pauses the process while none of its database sessions is inside a transaction or a statement. A holder paused
 * inside one keeps the lease row locked, so the takeover waits for it to resume and commit (that write precedes
 * the takeover); this test is about the holder that finds its lease gone. A statement the process sent just
 * before it stopped still runs at the server and may leave its transaction open, so the sessions are read only
 * after they have had time to settle, and every state but `idle` (active, idle in transaction) counts as busy.
 */
async function pauseOutsideTransaction(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    child.kill('SIGSTOP');
    await sleep(50);
    const busy = await stack.db.query(
      `select 1 from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and state is distinct from 'idle'`,
    );
    if (busy.length === 0) return;
    child.kill('SIGCONT');
    await sleep(20);
  }
  throw new Error('the holder never paused outside a transaction');
}

describe('two sync-service replicas racing on one org', () => {
  it('refuses the writes of a holder paused past its lease; the load completes once', async () => {
    const first = await stack.startReplica(ENV);
    const realmId = sim.realmIds[0] as string;
    const orgId = newOrg();
    await stack.connect(realmId, orgId);
    await waitFor(
      async () =>
        (await stack.db.query('select 1 from sync.mirror_record where org_id = $1 limit 1', [orgId])).length >
        0,
      { timeoutMs: 30_000, intervalMs: 20, what: 'a first page' },
    );
    await pauseOutsideTransaction(first.child);
    try {
      const held = await lease(orgId);
      const [run] = await stack.db.query<{ run_id: string }>(
        'select run_id::text from sync.sync_run where org_id = $1',
        [orgId],
      );
      const runA = run?.run_id as string;
      assert.ok(held && runA);

      // The paused holder misses its heartbeats; a second replica takes the org over.
      const second = await stack.startReplica(ENV);
      await waitFor(async () => (await lease(orgId))?.holder !== held.holder, {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: 'the lease taken over',
      });
      const taken = await lease(orgId);
      assert.ok(BigInt(taken?.fencing_token ?? 0) > BigInt(held.fencing_token), 'a higher fencing token');
      const before = await writtenBy(runA);
      await sleep(TTL_MS);

      first.child.kill('SIGCONT');
      let ended: { status: string; error: { code?: string; category?: string } | null } | undefined;
      await waitFor(
        async () => {
          [ended] = await stack.db.query<NonNullable<typeof ended>>(
            `select status, error from sync.sync_run where run_id = $1 and status <> 'running'`,
            [runA],
          );
          return ended !== undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'the stale holder’s run ended' },
      );
      // Ended by the stale holder when it finds its lease gone, or already by the new holder's first run, which
      // closes whatever of the org is still marked running.
      assert.ok(
        ['lease_lost', 'run_interrupted'].includes(ended?.error?.code ?? ''),
        `the stale holder's run ended: ${JSON.stringify(ended)}`,
      );
      await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 90_000);
      await stack.drained();
      const [failedEvents] = await stack.db.query<{ n: number }>(
        `select count(*)::int as n from sync.outbox where type = 'SyncFailed' and payload::jsonb->'data'->>'syncRunId' = $1`,
        [runA],
      );
      assert.equal(failedEvents?.n, 1, 'one SyncFailed for the stale holder’s run, whoever closed it');
      assert.deepEqual(
        await writtenBy(runA),
        before,
        'nothing the stale holder wrote after the takeover landed',
      );

      const completed = await stack.db.query(
        `select 1 from sync.sync_run where org_id = $1 and mode = 'initial' and status = 'completed'`,
        [orgId],
      );
      assert.equal(completed.length, 1, 'the load completed once');
      const log = await orgLog(stack, orgId);
      assert.equal(
        log.filter((e) => e.type === 'RecordSnapshotCompleted').length,
        1,
        'one snapshot completed',
      );
      const fromA = new Set(
        log
          .filter((e) => (e.data as { source?: { runId?: string } }).source?.runId === runA)
          .map((e) => (e.data as { seq: string }).seq),
      );
      assert.equal(fromA.size, before.events, 'the topic holds only what the stale holder wrote before');
      assert.deepEqual(
        await feedProblems(stack, orgId, log),
        [],
        'seqs contiguous, every version on the log',
      );
      assert.deepEqual(
        await mirrorDifferences(stack, sim, realmId, DEFAULT_SYNC_ENTITIES),
        [],
        'the mirror equals the simulator',
      );
      const [target] = await stack.db.query<{ last_error: unknown }>(
        'select last_error from sync.sync_target where org_id = $1',
        [orgId],
      );
      const failures = stack.replicas.flatMap((r, i) =>
        r.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => ({ i, ...l })),
      );
      assert.equal(
        target?.last_error,
        null,
        `the stale holder left the company’s schedule alone; failures: ${JSON.stringify(failures)}`,
      );
      assert.ok(second.child.exitCode === null, 'the second replica runs on');
    } finally {
      first.child.kill('SIGCONT');
    }
  });
});
