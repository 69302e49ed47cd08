// One sync-service replica keeping many connections on schedules: what each connection costs it (CPU, calls to
// Intuit) per hour, how the scheduled runs spread over the interval, and how many replicas a fleet needs.
// The simulator holds `connections` small companies; each is connected as auth-service would (a grant stored
// in the real token-service, `ConnectionEstablished` on the bus), loaded once, then synced by its schedule
// alone (no webhooks, no changes). The interval is shortened (60 s by default, against 15 min in production)
// so a few intervals fit in minutes; per-hour figures are extrapolated from the measured window.
import { ConnectionEstablished, createEventFactory } from '@qbo/events';
import { startCpuCount, waitFor } from '@qbo/testkit';
import { apiCalls, type Counters, callsTo, startSimulator } from '../testing/simulator-control.js';
import { newOrg, startSyncStack } from '../testing/sync-stack.js';
import { storeGrant } from '../testing/token-service.js';
import { countProcesses } from './process-cpu.js';

export interface ScaleOptions {
  connections: number;
  intervalMs: number;
  /** Intervals measured once every initial load is done. */
  intervals: number;
  print: (line: string) => void;
}

/** The production default between deltas (`SYNC_INTERVAL_MS`). */
export const PRODUCTION_INTERVAL_MS = 15 * 60_000;
/** The share of one core a replica is planned to use at most, leaving room for bursts and webhooks. */
export const PLANNED_CORE_SHARE = 0.5;
/** `SYNC_MAX_CONCURRENT_RUNS`' default: runs a replica keeps in flight at once. */
const MAX_CONCURRENT = 4;
const BUCKETS = 12;

export interface ScaleReport {
  connections: number;
  intervalMs: number;
  windowMs: number;
  /** The replica's CPU with no connection, ms per second (its polls, lease and relay loops). */
  idleCpuMsPerS: number;
  /** The replica's CPU in the window, ms. */
  cpuMs: number;
  /** Other processes' CPU in the window, ms. */
  otherCpuMs: Record<string, number>;
  runs: number;
  runsByTrigger: Record<string, number>;
  failedRuns: number;
  /** Mean run duration in the window, ms. */
  meanRunMs: number;
  apiCalls: number;
  callsByEndpoint: Record<string, number>;
  tokenCalls: number;
  throttled: number;
  /** Runs started in each twelfth of the interval, the window folded onto one interval. */
  histogram: number[];
  /** The most runs started in any one second of the window, and the mean per second. */
  peakPerSecond: number;
  meanPerSecond: number;
  /** Connections that ran no scheduled delta in the window. */
  starved: number;
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);
const apiTotal = (c: Counters, realms: readonly string[]) => sum(realms.map((r) => apiCalls(c, r)));
const endpointCalls = (c: Counters, realms: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const r of realms)
    for (const [endpoint, e] of Object.entries(c[r] ?? {})) out[endpoint] = (out[endpoint] ?? 0) + e.calls;
  return out;
};
const throttledCalls = (c: Counters, realms: readonly string[]) =>
  sum(realms.flatMap((r) => Object.values(c[r] ?? {}).map((e) => e.statuses['429'] ?? 0)));

export async function runScale({
  connections,
  intervalMs,
  intervals,
  print,
}: ScaleOptions): Promise<ScaleReport> {
  const sim = await startSimulator(['--seed', '21', '--companies', String(connections), '--records', '12']);
  const stack = await startSyncStack(sim);
  try {
    // Production's settings, but for the interval: a poll every 500 ms, 30 s leases, a 60 s cursor margin.
    const replica = await stack.startReplica({
      SYNC_INTERVAL_MS: String(intervalMs),
      SYNC_POLL_MS: '500',
      SYNC_LEASE_TTL_MS: '30000',
      SYNC_CURSOR_MARGIN_MS: '60000',
      SYNC_RETRY_BASE_MS: '5000',
    });
    const realms = sim.realmIds.slice(0, connections);
    const idleCount = countProcesses({ 'sync-service': replica.child.pid });
    const idleStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const idleCpuMsPerS =
      ((idleCount()['sync-service'] ?? Number.NaN) * 1000) / ((performance.now() - idleStart) / 1000);
    print(`idle replica (no connection): ${idleCpuMsPerS.toFixed(1)} CPU ms per second`);

    // Grants one at a time (the simulator's consent approves the realm named next), events in one send.
    const seedStart = performance.now();
    const events = createEventFactory({ source: 'auth-service' });
    const established = [];
    for (const realmId of realms) {
      const orgId = newOrg();
      const { connectionId } = await storeGrant(sim, stack.tokens.client(), realmId, orgId);
      established.push(
        events(ConnectionEstablished, {
          orgId,
          realmId,
          data: {
            connectionId,
            realmId,
            environment: 'sandbox',
            scopes: ['com.intuit.quickbooks.accounting'],
            connectedAt: new Date().toISOString(),
          },
        }),
      );
    }
    for (let i = 0; i < established.length; i += 200) await stack.publish(established.slice(i, i + 200));
    print(
      `${connections} connections stored and announced in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    const loaded = async () =>
      (
        await stack.db.query<{ n: number }>(
          `select count(distinct realm_id)::int as n from sync.sync_run where mode = 'initial' and status = 'completed'`,
        )
      )[0]?.n ?? 0;
    await waitFor(async () => (await loaded()) >= connections, {
      timeoutMs: 1_800_000,
      intervalMs: 1_000,
      what: 'every initial load completed',
    });
    print(
      `every initial load completed ${((performance.now() - seedStart) / 1000).toFixed(1)} s after the first grant`,
    );
    // One interval more: the window then holds only scheduled deltas, each company on its own phase.
    await new Promise((resolve) => setTimeout(resolve, intervalMs));

    const windowMs = intervals * intervalMs;
    const before = await sim.counters();
    const machine = startCpuCount();
    const processes = countProcesses({
      'sync-service': replica.child.pid,
      'token-service': stack.tokens.process.child.pid,
      simulator: sim.pid,
    });
    const t0 = new Date();
    print(`measuring ${intervals} intervals (${windowMs / 1000} s) from ${t0.toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const t1 = new Date();
    const own = processes();
    const cpu = machine?.();
    const after = await sim.counters();

    const runs = await stack.db.query<{
      trigger: string;
      status: string;
      started_at: Date;
      ms: number | null;
    }>(
      `select trigger, status, started_at,
         extract(epoch from (finished_at - started_at)) * 1000 as ms
       from sync.sync_run where started_at >= $1 and started_at < $2`,
      [t0, t1],
    );
    const runsByTrigger: Record<string, number> = {};
    for (const r of runs) runsByTrigger[r.trigger] = (runsByTrigger[r.trigger] ?? 0) + 1;
    const histogram = new Array<number>(BUCKETS).fill(0);
    const perSecond = new Map<number, number>();
    for (const r of runs) {
      const offset = r.started_at.getTime() - t0.getTime();
      const bucket = Math.floor(((offset % intervalMs) / intervalMs) * BUCKETS);
      histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      const second = Math.floor(offset / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const scheduled = await stack.db.query<{ n: number }>(
      `select count(*)::int as n from sync.sync_target t where not exists (
         select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.trigger = 'schedule'
           and r.started_at >= $1 and r.started_at < $2)`,
      [t0, t1],
    );
    const durations = runs.flatMap((r) => (r.ms === null ? [] : [Number(r.ms)]));
    const cpuMs = (s: number | undefined) => (s ?? Number.NaN) * 1000;
    return {
      connections,
      intervalMs,
      windowMs: t1.getTime() - t0.getTime(),
      idleCpuMsPerS,
      cpuMs: cpuMs(own['sync-service']),
      otherCpuMs: {
        'token-service': cpuMs(own['token-service']),
        simulator: cpuMs(own.simulator),
        postgres: cpuMs(cpu?.postgres),
        broker: cpuMs(cpu?.broker),
      },
      runs: runs.length,
      runsByTrigger,
      failedRuns: runs.filter((r) => r.status === 'failed').length,
      meanRunMs: durations.length ? sum(durations) / durations.length : Number.NaN,
      apiCalls: apiTotal(after, realms) - apiTotal(before, realms),
      callsByEndpoint: Object.fromEntries(
        Object.entries(endpointCalls(after, realms)).map(([e, n]) => [
          e,
          n - (endpointCalls(before, realms)[e] ?? 0),
        ]),
      ),
      tokenCalls: callsTo(after, 'token') - callsTo(before, 'token'),
      throttled: throttledCalls(after, realms) - throttledCalls(before, realms),
      histogram,
      peakPerSecond: Math.max(0, ...perSecond.values()),
      meanPerSecond: runs.length / (windowMs / 1000),
      starved: scheduled[0]?.n ?? 0,
    };
  } finally {
    await stack.stop();
    await sim.stop();
  }
}

/** Per connection per hour, the fleet's replicas, and the schedule's spread, as printed lines. */
export function formatScale(r: ScaleReport): string[] {
  const hours = r.windowMs / 3_600_000;
  const perConnHour = (x: number) => x / r.connections / hours;
  const runsPerConnHour = perConnHour(r.runs);
  // A run's own CPU: the window's, less what the replica spends with no connection at all.
  const idleMs = r.idleCpuMsPerS * (r.windowMs / 1000);
  const cpuPerRun = (r.cpuMs - idleMs) / r.runs;
  const callsPerRun = r.apiCalls / r.runs;
  const prodRunsPerHour = 3_600_000 / PRODUCTION_INTERVAL_MS;
  const mean = sum(r.histogram) / r.histogram.length;
  const width = 40 / Math.max(1, ...r.histogram);
  const lines = [
    `${r.connections} connections, interval ${r.intervalMs / 1000} s (±10 % jitter), window ${(r.windowMs / 1000).toFixed(0)} s`,
    `runs started: ${r.runs} (${Object.entries(r.runsByTrigger)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')}), failed ${r.failedRuns}, mean duration ${r.meanRunMs.toFixed(0)} ms; ` +
      `${r.starved} connections with no scheduled run in the window`,
    `calls to Intuit: ${r.apiCalls} (${Object.entries(r.callsByEndpoint)
      .filter(([, n]) => n > 0)
      .map(([e, n]) => `${e} ${n}`)
      .join(
        ', ',
      )}), ${callsPerRun.toFixed(2)} per run; 429s ${r.throttled}; token endpoint calls ${r.tokenCalls}`,
    `sync-service CPU: ${r.cpuMs.toFixed(0)} ms in the window (${((r.cpuMs / r.windowMs) * 100).toFixed(1)} % of a core); ` +
      `idle replica ${r.idleCpuMsPerS.toFixed(1)} ms/s; per run ${cpuPerRun.toFixed(2)} ms beyond idle`,
    `other processes' CPU in the window (ms): ${Object.entries(r.otherCpuMs)
      .map(([p, ms]) => `${p} ${ms.toFixed(0)}`)
      .join(', ')}`,
    '',
    `per connection per hour at this interval (measured window extrapolated to an hour): ${runsPerConnHour.toFixed(1)} runs, ` +
      `${perConnHour(r.apiCalls).toFixed(1)} API calls, ${perConnHour(r.cpuMs).toFixed(1)} CPU ms ` +
      `(${perConnHour(r.cpuMs - idleMs).toFixed(1)} ms beyond the idle replica's share)`,
    `per connection per hour at the production interval (${PRODUCTION_INTERVAL_MS / 60_000} min, ${prodRunsPerHour} runs, ` +
      `figures per run as measured): ${(prodRunsPerHour * callsPerRun).toFixed(1)} API calls, ` +
      `${(prodRunsPerHour * cpuPerRun).toFixed(2)} CPU ms`,
    '',
    `run starts over the interval (window folded onto one ${r.intervalMs / 1000} s interval, ${BUCKETS} buckets):`,
    ...r.histogram.map((n, i) => {
      const from = (i * r.intervalMs) / BUCKETS / 1000;
      return `  ${from.toFixed(0).padStart(3)}–${(from + r.intervalMs / BUCKETS / 1000).toFixed(0).padEnd(3)} s ${String(n).padStart(5)} ${'#'.repeat(Math.round(n * width))}`;
    }),
    `  largest bucket ${(Math.max(...r.histogram) / mean).toFixed(2)}× the mean, smallest ${(Math.min(...r.histogram) / mean).toFixed(2)}×; ` +
      `busiest second ${r.peakPerSecond} starts against a mean of ${r.meanPerSecond.toFixed(1)}/s`,
    '',
    ...fleet(r, cpuPerRun),
  ];
  return lines;
}

/** Replicas a 10,000-connection fleet needs at this interval and at the production one. */
function fleet(r: ScaleReport, cpuPerRun: number): string[] {
  const fleetSize = 10_000;
  const needed = (intervalMs: number) => {
    const runsPerS = fleetSize / (intervalMs / 1000);
    // CPU: each replica's idle cost plus the runs' own, kept under the planned share of a core.
    const runCores = (runsPerS * cpuPerRun) / 1000;
    const idleCores = r.idleCpuMsPerS / 1000;
    const byCpu = Math.ceil(runCores / (PLANNED_CORE_SHARE - idleCores));
    // Slots: runs in flight on average (Little's law) against each replica's concurrent runs.
    const inFlight = (runsPerS * r.meanRunMs) / 1000;
    const bySlots = Math.ceil(inFlight / (MAX_CONCURRENT * PLANNED_CORE_SHARE));
    return { runsPerS, runCores, byCpu, inFlight, bySlots, replicas: Math.max(1, byCpu, bySlots) };
  };
  return [PRODUCTION_INTERVAL_MS, r.intervalMs].map((ms) => {
    const n = needed(ms);
    return (
      `10,000 connections at a ${ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`} interval: ${n.runsPerS.toFixed(1)} runs/s, ` +
      `${n.runCores.toFixed(3)} cores of run CPU (${cpuPerRun.toFixed(2)} ms each) → ${n.byCpu} replica(s) at ` +
      `${PLANNED_CORE_SHARE * 100} % of a core each; ${n.inFlight.toFixed(1)} runs in flight on average ` +
      `(${r.meanRunMs.toFixed(0)} ms each) → ${n.bySlots} replica(s) at half of ${MAX_CONCURRENT} slots; ` +
      `needs ${n.replicas}`
    );
  });
}
