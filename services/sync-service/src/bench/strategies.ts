// Sync strategies side by side: ours (the sync-service process as it runs) and small models of the peers'
// strategies (Airbyte, Nango's templates, the Singer tap) against one seeded simulator company with Intuit's
// limits on. Calls and 429s are counted at the simulator; every destination is compared with the simulator
// record by record, by version (peers/peer-http.ts `versionOf`).
import { startSimulator } from '../testing/simulator-control.js';
import { startSyncStack } from '../testing/sync-stack.js';
import { type EdgeResult, edgeCases } from './edge-cases.js';
import { OURS_ENV, Ours } from './ours.js';
import { ENTITIES, freshMinute, type Measured, measure, peerProblems, peersOf } from './strategy-kit.js';

export { formatReport, table } from './report.js';

export interface StrategiesReport {
  records: number;
  initial: Measured[];
  edges: EdgeResult[];
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

async function initialLoad(opts: StrategiesOptions, print: (line: string) => void): Promise<Measured[]> {
  const sim = await startSimulator(['--seed', '21', '--companies', '1', '--records', String(opts.records)]);
  const stack = await startSyncStack(sim);
  try {
    await stack.startReplica(OURS_ENV);
    const realmId = sim.realmIds[0] as string;
    const out: Measured[] = [];
    const ours = new Ours(stack, realmId, ENTITIES);
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
