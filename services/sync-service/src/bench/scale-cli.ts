// One replica, many connections on schedules (see scale.ts). Exits 1 only when an invariant breaks (a 429 from
// Intuit, a failed run), never on speed.
//   node services/sync-service/dist/bench/scale-cli.js [connections=1000] [interval-seconds=60] [intervals=3]
import { formatScale, runScale } from './scale.js';

const [connections = 1_000, intervalS = 60, intervals = 3] = process.argv.slice(2).map(Number);
const print = (line: string) => process.stdout.write(`${line}\n`);
const report = await runScale({ connections, intervalMs: intervalS * 1000, intervals, print });
print('');
for (const line of formatScale(report)) print(line);
const broken = [
  ...(report.throttled > 0 ? [`${report.throttled} 429s from Intuit`] : []),
  ...(report.failedRuns > 0 ? [`${report.failedRuns} failed runs`] : []),
];
for (const what of broken) print(`INVARIANT BROKEN: ${what}`);
process.exit(broken.length === 0 ? 0 : 1);
