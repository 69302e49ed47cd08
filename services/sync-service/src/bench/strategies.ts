// Sync strategies side by side: ours (the sync-service process as it runs) and small models of the peers'
// strategies (Airbyte, Nango's templates, the Singer tap) against one seeded simulator company with Intuit's
// limits on. Calls and 429s are counted at the simulator; every destination is compared with the simulator
// record by record.
import { DEFAULT_SYNC_ENTITIES } from '../domain/entities.js';
import { mirrorDifferences, simulatorRecords } from '../testing/compare.js';
import { deleteAnInvoice, edits } from '../testing/qbo-changes.js';
import { type Counters, type SimulatorUnderTest, startSimulator } from '../testing/simulator-control.js';
import { newOrg, type SyncStack, startSyncStack } from '../testing/sync-stack.js';
import { airbyte } from './peers/airbyte.js';
import { nango } from './peers/nango.js';
import { compareStore, hashed, type PeerStrategy, type Problems } from './peers/peer-http.js';
import { singer } from './peers/singer.js';

export const ENTITIES = [...DEFAULT_SYNC_ENTITIES];
export const STRATEGIES = ['ours', 'Airbyte', 'Nango', 'Singer'] as const;
const DAY = 86_400_000;

export interface Measured {
  strategy: string;
  /** Accounting API calls counted at the simulator (OAuth calls not included). */
  calls: number;
  wallMs: number;
  /** 429s the simulator sent. */
  throttled: number;
  missed: number;
  wrong: number;
  /** A run that failed (the strategy gave up), if one did. */
  failed?: string | undefined;
}

export interface StrategiesReport {
  records: number;
  initial: Measured[];
  edges: { scenario: string; results: Measured[] }[];
}

export interface StrategiesOptions {
  /** Records of the initial-load company. */
  records: number;
  /** Records of the edge-case company; no edge cases when 0. */
  edgeRecords: number;
  /** Multiplies the peers' back-offs on errors other than 429 (1 = as they ship); 429 waits are always real. */
  backoffScale: number;
  print?: (line: string) => void;
}

const realmCalls = (c: Counters, realmId: string) =>
  Object.entries(c[realmId] ?? {})
    .filter(([endpoint]) => endpoint !== 'token')
    .reduce((n, [, e]) => ({ calls: n.calls + e.calls, throttled: n.throttled + (e.statuses['429'] ?? 0) }), {
      calls: 0,
      throttled: 0,
    });

/** Runs `work` and counts, at the simulator, what it cost the realm. */
async function measure(sim: SimulatorUnderTest, realmId: string, work: () => Promise<void>) {
  const before = realmCalls(await sim.counters(), realmId);
  const started = Date.now();
  let failed: string | undefined;
  try {
    await work();
  } catch (error) {
    failed = (error as Error).message.slice(0, 200);
  }
  const wallMs = Date.now() - started;
  const after = realmCalls(await sim.counters(), realmId);
  return { calls: after.calls - before.calls, throttled: after.throttled - before.throttled, wallMs, failed };
}

/** Ours: a connected org whose syncs the bench asks for and waits on, and whose mirror it compares. */
class Ours {
  orgId = newOrg();
  connectionId = '';
  constructor(
    readonly stack: SyncStack,
    readonly realmId: string,
  ) {}
  async initial() {
    this.connectionId = await this.stack.connect(this.realmId, this.orgId);
    await this.stack.waitForRun(this.realmId, { mode: 'initial', status: 'completed' }, 3_600_000);
    await this.stack.drained(600_000);
  }
  async run(mode: 'incremental' | 'full', during?: () => Promise<void>) {
    const at = new Date(Date.now() - 1);
    await this.stack.requestSync(this.orgId, this.connectionId, mode);
    await during?.();
    // An incremental request runs as a CDC run (or a query run past CDC's reach): the first run completed after it.
    await this.stack.waitForRun(this.realmId, { status: 'completed', after: at }, 600_000);
    await this.stack.drained(120_000);
  }
  async problems(): Promise<Problems> {
    const d = await mirrorDifferences(this.stack, this.stack.sim, this.realmId, ENTITIES);
    const key = (x: { entity: string; entityId: string }) => `${x.entity}/${x.entityId}`;
    return {
      missed: new Set(d.filter((x) => x.problem === 'missing_in_mirror').map(key)),
      wrong: new Set(d.filter((x) => x.problem !== 'missing_in_mirror').map(key)),
    };
  }
}

async function peersOf(sim: SimulatorUnderTest, realmId: string, backoffScale: number) {
  const now = () => sim.clock();
  const startMs = (await sim.clock()) - 400 * DAY;
  return [
    await airbyte(sim, realmId, { startMs, now, backoffScale }),
    await nango(sim, realmId, { now, backoffScale }),
    await singer(sim, realmId, { startMs, now, backoffScale }),
  ];
}

const peerProblems = (sim: SimulatorUnderTest, realmId: string, peer: PeerStrategy) =>
  compareStore(sim, realmId, ENTITIES, hashed(peer.store));

/** Lets the simulator's per-minute windows empty so each strategy starts with the realm's whole budget. */
const freshMinute = (sim: SimulatorUnderTest) => sim.clock(61_000);

async function initialLoad(opts: StrategiesOptions, print: (line: string) => void): Promise<Measured[]> {
  const sim = await startSimulator(['--seed', '21', '--companies', '1', '--records', String(opts.records)]);
  const stack = await startSyncStack(sim);
  try {
    await stack.startReplica();
    const realmId = sim.realmIds[0] as string;
    const out: Measured[] = [];
    const ours = new Ours(stack, realmId);
    const m = await measure(sim, realmId, () => ours.initial());
    const p = await ours.problems();
    out.push({ strategy: 'ours', ...m, missed: p.missed.size, wrong: p.wrong.size });
    print(`  ours: ${m.calls} calls, ${(m.wallMs / 1000).toFixed(1)} s`);
    for (const peer of await peersOf(sim, realmId, opts.backoffScale)) {
      await freshMinute(sim);
      const pm = await measure(sim, realmId, () => peer.initial(ENTITIES));
      const pp = await peerProblems(sim, realmId, peer);
      out.push({ strategy: peer.name, ...pm, missed: pp.missed.size, wrong: pp.wrong.size });
      print(
        `  ${peer.name}: ${pm.calls} calls, ${(pm.wallMs / 1000).toFixed(1)} s${pm.failed ? ` (failed: ${pm.failed})` : ''}`,
      );
    }
    return out;
  } finally {
    await stack.stop();
    await sim.stop();
  }
}

interface Step {
  /** The change made in QuickBooks before the strategies run. */
  mutate?: () => Promise<void>;
  /** A full re-load (each peer from empty, ours a full sync) with a user's edits arriving after the first page. */
  reload?: boolean;
}

async function edgeCases(opts: StrategiesOptions, print: (line: string) => void) {
  const sim = await startSimulator([
    '--seed',
    '21',
    '--companies',
    '1',
    '--records',
    String(opts.edgeRecords),
  ]);
  const stack = await startSyncStack(sim);
  try {
    await stack.startReplica();
    const realmId = sim.realmIds[0] as string;
    const ours = new Ours(stack, realmId);
    await ours.initial();
    const peers = await peersOf(sim, realmId, opts.backoffScale);
    for (const peer of peers) {
      await freshMinute(sim);
      await peer.initial(ENTITIES).catch(() => undefined); // a failed first run shows in the comparisons
    }
    const customers = [...(await simulatorRecords(sim, realmId, 'Customer')).values()]
      .filter((c) => c.Active !== false)
      .map((c) => String(c.Id));
    const pick = (n: number) => customers.splice(0, n);
    const invoices = [...(await simulatorRecords(sim, realmId, 'Invoice')).keys()];
    let tieAt = 0;

    // Edits of records the first page returned, between that page and the next (a user at work mid-load).
    let midLoad: ((entity: string, ids: string[]) => Promise<void>) | undefined;
    const editAfterFirstPage = (client: PeerStrategy['client']) => {
      let done = false;
      client.onQuery = async (select, rows) => {
        if (done || !select.startsWith('SELECT * FROM Customer') || rows.length < 3) return;
        done = true;
        await midLoad?.(
          'Customer',
          rows.slice(0, 3).map((r) => String(r.Id)),
        );
      };
    };
    midLoad = async (entity, ids) => void (await sim.bulk(realmId, edits(entity, ids, `mid-${Date.now()}`)));

    const scenarios: { scenario: string; steps: Step[] }[] = [
      {
        scenario: 'ties at the checkpoint second (5 + 5 edits stamped one second, a run between)',
        steps: [
          {
            mutate: async () => {
              tieAt = Math.floor((await sim.clock()) / 1000) * 1000;
              await sim.bulk(realmId, edits('Customer', pick(5), 'tie-a'), new Date(tieAt).toISOString());
            },
          },
          {
            mutate: async () =>
              void (await sim.bulk(
                realmId,
                edits('Customer', pick(5), 'tie-b'),
                new Date(tieAt).toISOString(),
              )),
          },
        ],
      },
      {
        scenario: 'CDC cap overflow (1,001 customers created in one bulk import)',
        steps: [
          {
            mutate: async () =>
              void (await sim.bulk(
                realmId,
                Array.from({ length: 1001 }, (_, i) => ({
                  op: 'create',
                  entity: 'Customer',
                  data: { DisplayName: `Overflow ${i} ${Date.now()}` },
                })),
              )),
          },
        ],
      },
      {
        scenario: 'updates during an offset-paged load (3 edits after the first Customer page)',
        steps: [{ reload: true }, {}],
      },
      {
        scenario: 'voids (3 invoices)',
        steps: [
          {
            mutate: async () => {
              let voided = 0;
              for (const id of invoices.splice(0, 20)) {
                if (voided === 3) break;
                try {
                  await sim.change(realmId, { op: 'void', entity: 'Invoice', id });
                  voided += 1;
                } catch {
                  // Not voidable (e.g. paid): the next one.
                }
              }
            },
          },
        ],
      },
      {
        scenario: 'merges (2 customers merged into others)',
        steps: [
          {
            mutate: async () => {
              for (const [from, into] of [pick(2), pick(2)] as [string, string][]) {
                await sim.change(realmId, { op: 'merge', entity: 'Customer', id: from, into });
              }
            },
          },
        ],
      },
      {
        scenario: 'deletes older than 30 days (3 invoices deleted, next run 31 days later)',
        steps: [
          {
            mutate: async () => {
              const skip: string[] = [];
              for (let i = 0; i < 3; i++) skip.push((await deleteAnInvoice(stack, sim, realmId, skip)).id);
              await sim.clock(31 * DAY);
            },
          },
        ],
      },
    ];

    const before = new Map<string, Problems>();
    before.set('ours', await ours.problems());
    for (const peer of peers) before.set(peer.name, await peerProblems(sim, realmId, peer));
    const edges: { scenario: string; results: Measured[] }[] = [];
    for (const { scenario, steps } of scenarios) {
      print(`  ${scenario}`);
      const totals = new Map<string, Omit<Measured, 'strategy' | 'missed' | 'wrong'>>();
      const add = (name: string, m: Awaited<ReturnType<typeof measure>>) => {
        const t = totals.get(name) ?? { calls: 0, wallMs: 0, throttled: 0 };
        totals.set(name, {
          calls: t.calls + m.calls,
          wallMs: t.wallMs + m.wallMs,
          throttled: t.throttled + m.throttled,
          ...(t.failed || m.failed ? { failed: t.failed ?? m.failed } : {}),
        });
      };
      for (const step of steps) {
        await step.mutate?.();
        await freshMinute(sim);
        add(
          'ours',
          await measure(sim, realmId, () =>
            step.reload
              ? ours.run('full', async () => {
                  const first = customers.slice(0, 3);
                  await midLoad?.('Customer', first);
                })
              : ours.run('incremental'),
          ),
        );
        for (const peer of peers) {
          await freshMinute(sim);
          if (step.reload) editAfterFirstPage(peer.client);
          add(
            peer.name,
            await measure(sim, realmId, () =>
              step.reload ? peer.initial(ENTITIES) : peer.incremental(ENTITIES),
            ),
          );
          peer.client.onQuery = undefined;
        }
      }
      const results: Measured[] = [];
      for (const name of STRATEGIES) {
        const peer = peers.find((p) => p.name === name);
        const now = peer ? await peerProblems(sim, realmId, peer) : await ours.problems();
        const was = before.get(name) as Problems;
        const fresh = (now_: Set<string>, was_: Set<string>) => [...now_].filter((k) => !was_.has(k)).length;
        results.push({
          strategy: name,
          ...(totals.get(name) as Omit<Measured, 'strategy' | 'missed' | 'wrong'>),
          missed: fresh(now.missed, was.missed),
          wrong: fresh(now.wrong, was.wrong),
        });
        before.set(name, now);
      }
      edges.push({ scenario, results });
      print(formatReport({ records: 0, initial: [], edges: [{ scenario, results }] }));
    }
    return edges;
  } finally {
    await stack.stop();
    await sim.stop();
  }
}

export async function runStrategies(opts: StrategiesOptions): Promise<StrategiesReport> {
  const print = opts.print ?? (() => {});
  print(`initial load, ${opts.records.toLocaleString('en')} records over ${ENTITIES.length} entities`);
  const initial = await initialLoad(opts, print);
  if (opts.edgeRecords > 0) print('edge cases');
  const edges = opts.edgeRecords > 0 ? await edgeCases(opts, print) : [];
  return { records: opts.records, initial, edges };
}

/** Where our strategy breaks an invariant: a record missed or wrong, a 429, a failed run. */
export function oursBroken(report: StrategiesReport): string[] {
  const out: string[] = [];
  const check = (where: string, m: Measured | undefined) => {
    if (!m) return;
    if (m.missed > 0) out.push(`${where}: ours missed ${m.missed} records`);
    if (m.wrong > 0) out.push(`${where}: ours holds ${m.wrong} wrong records`);
    if (m.throttled > 0) out.push(`${where}: ours received ${m.throttled} 429s`);
    if (m.failed) out.push(`${where}: our run failed: ${m.failed}`);
  };
  check(
    'initial load',
    report.initial.find((m) => m.strategy === 'ours'),
  );
  for (const e of report.edges)
    check(
      e.scenario,
      e.results.find((m) => m.strategy === 'ours'),
    );
  return out;
}

const pad = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');

/** A table as Markdown, so the README can hold it as printed. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [
    `| ${pad(header, widths)} |`,
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => `| ${pad(r, widths)} |`),
  ].join('\n');
}

export function formatReport(report: StrategiesReport): string {
  const row = (m: Measured) => [
    m.strategy,
    String(m.calls),
    `${(m.wallMs / 1000).toFixed(1)} s`,
    String(m.throttled),
    String(m.missed),
    String(m.wrong),
    m.failed ? `run failed: ${m.failed.slice(0, 60)}` : '',
  ];
  const header = ['strategy', 'API calls', 'wall time', '429s', 'missed', 'wrong', 'note'];
  const parts = [
    `Initial load: ${report.records.toLocaleString('en')} records over ${ENTITIES.length} entities`,
    table(header, report.initial.map(row)),
  ];
  for (const e of report.edges) parts.push('', `Edge case: ${e.scenario}`, table(header, e.results.map(row)));
  return parts.join('\n');
}
