import { randomInt } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@qbo/local-kafka';
import { type ChaosReport, runChaos } from './run.js';
import { formatReport } from './table.js';

// npm run chaos -- [--seed N] [--duration SECONDS] [--quiet SECONDS] [--companies N] [--verbose]
// Runs the whole stack on its own broker under load while it breaks things at seeded random moments, then
// counts the invariants and prints them; exits 1 when any count is not 0 (or the run could not converge).

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number`);
  return value;
};
const seed = option('seed', randomInt(1, 2 ** 31 - 1));
const durationS = option('duration', 600);
const print = (line: string) => process.stdout.write(`${line}\n`);
const verbose = args.includes('--verbose');

const runDir = join(repoRoot(), '.local', 'chaos', String(seed));
print(
  `[chaos] seed ${seed} (replay: npm run chaos -- --seed ${seed} --duration ${durationS}); ` +
    `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
const started = Date.now();
runChaos({
  seed,
  durationMs: durationS * 1000,
  quietMs: option('quiet', 180) * 1000,
  companies: option('companies', 6),
  initialOrgs: option('initial', 3),
  records: option('records', 150),
  runDir,
  log: (line) => {
    if (verbose || line.startsWith('[chaos]') || line.startsWith('[kafka]')) print(line);
  },
}).then(
  (report: ChaosReport) => {
    print(formatReport(report, Date.now() - started));
    process.exit(report.ok ? 0 : 1);
  },
  (err: unknown) => {
    print(`[chaos] the run did not complete: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof Error && err.cause)
      print(`[chaos] cause: ${String((err.cause as Error).message ?? err.cause)}`);
    print(`[chaos] seed ${seed}; service logs in ${runDir}/logs`);
    process.exit(1);
  },
);
