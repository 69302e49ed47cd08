// The edge cases of ../shared/docs/sync-research.md §5, every strategy on one company: records missed or wrong.
import { simulatorRecords } from '../testing/compare.js';
import { deleteAnInvoice, edits } from '../testing/qbo-changes.js';
import { startSimulator } from '../testing/simulator-control.js';
import { startSyncStack } from '../testing/sync-stack.js';
import { OURS_ENV, Ours } from './ours.js';
import type { PeerStrategy, Problems } from './peers/peer-http.js';
import { formatEdge } from './report.js';
import {
  type Cost,
  DAY,
  ENTITIES,
  freshMinute,
  type Measured,
  measure,
  peerProblems,
  peersOf,
  STRATEGIES,
} from './strategy-kit.js';

export interface EdgeResult {
  scenario: string;
  results: Measured[];
}

interface Step {
  /** Ours runs right after the change, without a minute's jump of the simulator clock first. */
  oursAtOnce?: boolean;
  /** The change made in QuickBooks before the strategies run. */
  mutate?: () => Promise<void>;
  /** A full re-load (each peer from empty, ours a full sync) with a user's edits arriving after the first page. */
  reload?: boolean;
}

/** The edge cases of sync-research §5 on one company, every strategy after each change: what each missed or holds wrong. */
export async function edgeCases(
  opts: { edgeRecords: number; backoffScale: number },
  print: (line: string) => void,
): Promise<EdgeResult[]> {
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
    await stack.startReplica(OURS_ENV);
    const realmId = sim.realmIds[0] as string;
    const ours = new Ours(stack, realmId, ENTITIES);
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
            // Ours reads in the second the first batch is stamped (a minute passing first would date that
            // batch before its cursor's margin); each peer's checkpoint is the batch's own time, whenever it runs.
            oursAtOnce: true,
            mutate: async () => {
              await freshMinute(sim);
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
    const edges: EdgeResult[] = [];
    for (const { scenario, steps } of scenarios) {
      print(`  ${scenario}`);
      const totals = new Map<string, Cost>();
      const add = (name: string, m: Cost) => {
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
        if (!step.oursAtOnce) await freshMinute(sim);
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
          ...(totals.get(name) as Cost),
          missed: fresh(now.missed, was.missed),
          wrong: fresh(now.wrong, was.wrong),
        });
        before.set(name, now);
      }
      edges.push({ scenario, results });
      print(formatEdge({ scenario, results }));
    }
    return edges;
  } finally {
    await stack.stop();
    await sim.stop();
  }
}
