import { SERVICES } from '@qbo/stack/services';
import { waitFor } from '@qbo/testkit';
import { countInvariants, type Row } from './count.js';
import { FaultDriver, type FaultKind } from './faults.js';
import { at, chaosToken, post } from './http.js';
import { seeded } from './prng.js';
import { deliveries, simCounters } from './sources.js';
import { type ChaosStack, startChaosStack, waitReady } from './stack.js';
import { Workload, type WorkloadTally } from './workload.js';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  /** How long the run may take, after the last fault, to converge before it counts. */
  quietMs: number;
  /** Companies at the simulator, one org each; `initialOrgs` connect before the first fault, the rest during. */
  companies: number;
  initialOrgs: number;
  records: number;
  runDir: string;
  log: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  rows: Row[];
  faults: Map<FaultKind, number>;
  tally: WorkloadTally;
  convergedMs: number;
  ok: boolean;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const { log } = opts;
  log(`[chaos] seed ${opts.seed}; the whole stack starting (logs in ${opts.runDir}/logs)`);
  const stack = await startChaosStack({
    runDir: opts.runDir,
    companies: opts.companies,
    records: opts.records,
    seed: opts.seed,
    log,
  });
  try {
    const workload = new Workload(stack, seeded(opts.seed ^ 0x5bd1e995), opts.seed);
    await workload.start(opts.initialOrgs);
    log(`[chaos] ${workload.connected.length} orgs connected; faults for ${opts.durationMs / 1000} s`);
    const started = Date.now();
    const faults = new FaultDriver(stack, seeded(opts.seed), log, started);
    const load = workload.run();
    await faults.run(started + opts.durationMs);
    await faults.stop();
    workload.stop();
    await load;
    log('[chaos] faults over; converging');
    const quietStart = Date.now();
    await converge(stack, workload, quietStart + opts.quietMs, log).catch(async (err: unknown) => {
      await describeState(stack, workload, log).catch(() => undefined);
      throw err;
    });
    const convergedMs = Date.now() - quietStart;
    const limits = await simCounters(stack);
    log(`[chaos] converged in ${(convergedMs / 1000).toFixed(1)} s; counting`);
    const rows = await countInvariants(stack, workload, limits);
    return {
      seed: opts.seed,
      rows,
      faults: faults.done,
      tally: workload.tally,
      convergedMs,
      ok: rows.every((r) => r.count === 0),
    };
  } finally {
    await stack.stop();
  }
}

/**
 * Nothing broken any more: every service up, every command sent, every pending webhook delivered, one more
 * incremental sync of each company asked and done, and the outboxes empty. Throws if that takes past `deadline`.
 */
async function converge(
  stack: ChaosStack,
  workload: Workload,
  deadline: number,
  log: (line: string) => void,
): Promise<void> {
  const left = () => Math.max(1_000, deadline - Date.now());
  stack.postgres.restore();
  stack.redis.restore();
  await fetch(`${stack.simulator}/_sim/faults`, { method: 'DELETE' });
  await stack.ensureRunning();
  for (const { name } of SERVICES) await waitReady(at(stack.ports[name]), left());
  await workload.flush(left());

  const ids = workload.pushes.map((p) => p.command.id);
  await waitFor(
    async () => {
      const rows = await stack.db.query<{ n: number }>(
        `select count(*)::int as n from sync.sync_push where command_id = any($1::uuid[]) and status <> 'pending'`,
        [ids],
      );
      return rows[0]?.n === ids.length;
    },
    { timeoutMs: left(), intervalMs: 500, what: `outcomes of ${ids.length} push commands` },
  );
  log('[chaos] every push command has its outcome');

  await waitFor(
    async () => {
      await post(`${stack.simulator}/_sim/webhooks/flush`, {});
      return (await deliveries(stack)).every((d) => d.delivered);
    },
    { timeoutMs: left(), intervalMs: 1_000, what: 'every webhook delivered' },
  );
  log('[chaos] every webhook delivery answered 200');

  const asked = new Date();
  for (const org of workload.connected) {
    await waitFor(
      async () => {
        const res = await fetch(`${at(stack.ports['sync-service'])}/connections/${org.connectionId}/sync`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await chaosToken(stack, org.orgId)}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ mode: 'incremental' }),
        });
        await res.body?.cancel();
        return res.status === 202;
      },
      { timeoutMs: left(), intervalMs: 1_000, what: `an incremental sync of ${org.realmId}` },
    );
  }
  const realms = workload.connected.map((o) => o.realmId);
  await waitFor(
    async () => {
      const done = await stack.db.query<{ n: number }>(
        `select count(distinct realm_id)::int as n from sync.sync_run
         where realm_id = any($1) and started_at >= $2 and status = 'completed'`,
        [realms, asked],
      );
      const busy = await stack.db.query<{ n: number }>(
        `select count(*)::int as n from sync.sync_target t where realm_id = any($1)
           and (wanted_at is not null or exists
             (select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.status = 'running'))`,
        [realms],
      );
      const unsent = await stack.db.query<{ n: number }>(
        'select count(*)::int as n from sync.outbox where sent_at is null',
      );
      return done[0]?.n === realms.length && busy[0]?.n === 0 && unsent[0]?.n === 0;
    },
    { timeoutMs: left(), intervalMs: 500, what: 'every company synced and idle, the outbox empty' },
  );
  log('[chaos] every company synced once more, idle, its events published');
}

/** What a run that could not converge was waiting for, printed before the stack is taken down. */
async function describeState(stack: ChaosStack, workload: Workload, log: (line: string) => void) {
  const ids = workload.pushes.map((p) => p.command.id);
  const pushes = await stack.db.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from sync.sync_push where command_id = any($1::uuid[]) group by status`,
    [ids],
  );
  log(
    `[chaos] push commands ${ids.length}, unacked ${workload.pushes.filter((p) => !p.acked).length}; rows: ${JSON.stringify(pushes)}`,
  );
  const targets = await stack.db.query(
    `select realm_id, status, needs_load, wanted_at, wanted_reason, attempts, last_error from sync.sync_target`,
  );
  log(`[chaos] sync targets: ${JSON.stringify(targets)}`);
  const runs = await stack.db.query(
    `select realm_id, mode, status, trigger, error->>'code' as code, started_at from sync.sync_run order by started_at desc limit 12`,
  );
  log(`[chaos] last runs: ${JSON.stringify(runs)}`);
  const undelivered = (await deliveries(stack)).filter((d) => !d.delivered).length;
  log(`[chaos] webhook deliveries not delivered: ${undelivered}`);
}
