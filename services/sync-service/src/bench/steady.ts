// Steady state: many companies, a few changes each per polling interval, webhooks on. Ours runs for real on every
// company (webhook → webhook-ingest → Kafka → a CDC run); each peer's model runs its incremental poll, as it would
// once per interval, on sample companies given the same changes. Calls are counted at the simulator (ours) and by
// each peer's client (its own grant), then put per company and hour and per change.
import { waitFor } from '@qbo/testkit';
import { simulatorRecords } from '../testing/compare.js';
import { apiCalls, startSimulator } from '../testing/simulator-control.js';
import { newOrg, startSyncStack } from '../testing/sync-stack.js';
import { startWebhookIngest } from '../testing/webhook-ingest.js';
import { OURS_ENV } from './ours.js';
import type { PeerStrategy } from './peers/peer-http.js';
import { table } from './report.js';
import { ENTITIES, peersOf } from './strategy-kit.js';

export interface SteadyOptions {
  /** Companies ours syncs. */
  orgs: number;
  /** Polling intervals run (each compressed to `roundSeconds` of real time). */
  rounds: number;
  roundSeconds: number;
  /** Changes per company per interval, spread evenly over it. */
  changesPerRound: number;
  /** Companies each peer model polls, its own (their calls do not depend on how many there are). */
  sample: number;
  /** The interval each peer polls at (and ours' scheduled delta when no webhook came), in minutes. */
  intervalMinutes: number;
  backoffScale: number;
  print?: (line: string) => void;
}

export interface SteadyRow {
  strategy: string;
  /** Calls per company per interval, as measured. */
  perInterval: number;
  perHour: number;
  perChange: number;
  note: string;
}

export interface SteadyReport {
  options: Omit<SteadyOptions, 'print'>;
  changes: number;
  rows: SteadyRow[];
  /** Changes ours did not bring into its mirror (an invariant: must be 0). */
  oursBehind: number;
}

/** Airbyte, Nango, Singer: each on companies of its own, so none is throttled by another's calls. */
const PEERS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSteady(opts: SteadyOptions): Promise<SteadyReport> {
  const print = opts.print ?? (() => {});
  const companies = opts.orgs + opts.sample * PEERS;
  const sim = await startSimulator(['--seed', '21', '--companies', String(companies), '--records', '60']);
  const stack = await startSyncStack(sim);
  const ingest = await startWebhookIngest(stack.bus.prefix);
  try {
    await stack.startReplica(OURS_ENV);
    await sim.addWebhookTarget({
      url: ingest.url,
      format: 'cloudevents',
      verifierToken: ingest.verifierToken,
    });
    const ours = sim.realmIds.slice(0, opts.orgs);
    const sampled = sim.realmIds.slice(opts.orgs);
    print(`steady state: connecting ${ours.length} companies`);
    const orgOf = new Map<string, { orgId: string; connectionId: string }>();
    for (const realmId of ours) {
      const orgId = newOrg();
      orgOf.set(realmId, { orgId, connectionId: await stack.connect(realmId, orgId) });
    }
    for (const realmId of ours) await ingest.linked(realmId);
    await waitFor(
      async () =>
        (
          await stack.db.query(
            `select 1 from sync.sync_target t where t.needs_load or t.wanted_at is not null
               or exists (select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.status = 'running')`,
          )
        ).length === 0 && (await stack.db.query('select 1 from sync.sync_target')).length === ours.length,
      { timeoutMs: 1_800_000, intervalMs: 500, what: 'every initial load done' },
    );
    const peers: PeerStrategy[] = [];
    for (const [k, realmId] of sampled.entries()) {
      peers.push((await peersOf(sim, realmId, opts.backoffScale))[k % PEERS] as PeerStrategy);
    }
    await Promise.all(peers.map((p) => p.initial(ENTITIES)));
    const customers = new Map<string, string[]>();
    for (const realmId of sim.realmIds) {
      const ids = [...(await simulatorRecords(sim, realmId, 'Customer')).values()]
        .filter((c) => c.Active !== false)
        .map((c) => String(c.Id));
      customers.set(realmId, ids);
    }
    const peerCalls = new Map<string, number>();
    const polls = new Map<PeerStrategy, Promise<void>>();
    const before = await sim.counters();
    print(`steady state: ${opts.rounds} intervals of ${opts.changesPerRound} changes per company`);
    let changes = 0;
    const started = Date.now();
    const slot = (opts.roundSeconds * 1000) / opts.changesPerRound;
    for (let round = 0; round < opts.rounds; round++) {
      for (let j = 0; j < opts.changesPerRound; j++) {
        for (const [i, realmId] of sim.realmIds.entries()) {
          const due = started + (round * opts.changesPerRound + j) * slot + (i / companies) * slot;
          await sleep(Math.max(0, due - Date.now()));
          const ids = customers.get(realmId) as string[];
          const id = ids[(round * opts.changesPerRound + j) % ids.length] as string;
          await sim.change(realmId, {
            op: 'update',
            entity: 'Customer',
            id,
            data: { Notes: `steady ${round}.${j}` },
          });
          if (ours.includes(realmId)) changes += 1;
        }
      }
      await sleep(Math.max(0, started + (round + 1) * opts.roundSeconds * 1000 - Date.now()));
      // The end of an interval: each peer polls its sample companies once, while the next interval's changes go on.
      for (const peer of peers) {
        const poll = (polls.get(peer) ?? Promise.resolve()).then(async () => {
          const n = peer.client.calls;
          await peer.incremental(ENTITIES).catch(() => undefined);
          peerCalls.set(peer.name, (peerCalls.get(peer.name) ?? 0) + peer.client.calls - n);
        });
        polls.set(peer, poll);
      }
    }
    await Promise.all(polls.values());
    await sim.flushWebhooks();
    // Ours is done when every company's mirror holds its last change and nothing runs.
    const behind = async () => {
      const rows = await stack.db.query<{ n: number }>(
        `select count(*)::int as n from sync.mirror_record
         where entity = 'Customer' and realm_id = any($1::text[]) and payload->>'Notes' like 'steady %'`,
        [ours],
      );
      return rows[0]?.n ?? 0;
    };
    const touched = Math.min(
      opts.rounds * opts.changesPerRound,
      Math.min(...[...customers.values()].map((c) => c.length)),
    );
    await waitFor(async () => (await behind()) >= touched * ours.length, {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'ours caught up',
    }).catch(() => undefined);
    await waitFor(
      async () => (await stack.db.query(`select 1 from sync.sync_run where status = 'running'`)).length === 0,
      { timeoutMs: 120_000, intervalMs: 200, what: 'no run in flight' },
    );
    const after = await sim.counters();
    const oursCalls = ours.reduce((n, r) => n + apiCalls(after, r) - apiCalls(before, r), 0);
    const oursBehind = touched * ours.length - (await behind());

    // A reconciliation (deletes CDC no longer shows) comes once a day per company: one measured, spread per hour.
    const [oneRealm] = ours as [string];
    const one = orgOf.get(oneRealm) as { orgId: string; connectionId: string };
    const r0 = apiCalls(await sim.counters(), oneRealm);
    const at = new Date(Date.now() - 1);
    await stack.requestSync(one.orgId, one.connectionId, 'reconciliation');
    await stack.waitForRun(oneRealm, { mode: 'reconciliation', status: 'completed', after: at }, 120_000);
    const reconcileCalls = apiCalls(await sim.counters(), oneRealm) - r0;

    const perHourFactor = 60 / opts.intervalMinutes;
    const changesPerHour = opts.changesPerRound * perHourFactor;
    const oursPerInterval = oursCalls / ours.length / opts.rounds;
    const oursPerHour = oursPerInterval * perHourFactor + reconcileCalls / 24;
    const rows: SteadyRow[] = [
      {
        strategy: 'ours',
        perInterval: oursPerInterval,
        perHour: oursPerHour,
        perChange: oursPerHour / changesPerHour,
        note: `webhook → CDC run; + a daily reconciliation (${reconcileCalls} calls)`,
      },
    ];
    for (const [name, calls] of peerCalls) {
      const perInterval = calls / opts.sample / opts.rounds;
      rows.push({
        strategy: name,
        perInterval,
        perHour: perInterval * perHourFactor,
        perChange: (perInterval * perHourFactor) / changesPerHour,
        note: `polls every ${opts.intervalMinutes} min`,
      });
    }
    const { print: _, ...options } = opts;
    return { options, changes, rows, oursBehind };
  } finally {
    await ingest.stop();
    await stack.stop();
    await sim.stop();
  }
}

export function formatSteady(r: SteadyReport): string {
  const o = r.options;
  const f = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(2));
  return [
    `Steady state: ${o.orgs} companies, ${o.changesPerRound} changes each per ${o.intervalMinutes}-minute interval ` +
      `(${o.rounds} intervals run, each in ${o.roundSeconds} s), webhooks on; ${r.changes} changes, ` +
      `${r.oursBehind} not in our mirror at the end`,
    table(
      ['strategy', 'calls per company per interval', 'per company per hour', 'per change', 'how'],
      r.rows.map((x) => [x.strategy, f(x.perInterval), f(x.perHour), f(x.perChange), x.note]),
    ),
    `For ${o.orgs} companies: ${r.rows.map((x) => `${x.strategy} ${Math.round(x.perHour * o.orgs).toLocaleString('en')}`).join(', ')} calls per hour.`,
  ].join('\n');
}
