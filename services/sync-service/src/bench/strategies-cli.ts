// `npm run bench`: sync strategies side by side (strategies.ts), latency (latency.ts), steady state (steady.ts).
// Exits 1 only when our strategy breaks an invariant (a record missed or wrong, a 429, a failed run, a change
// without its event), never on speed.
import { formatLatency, runLatency } from './latency.js';
import { formatSteady, runSteady } from './steady.js';
import { formatReport, oursBroken, runStrategies } from './strategies.js';

const USAGE = `npm run bench -- [records=100000] [edge-records=5000] [backoff-scale=1]
    initial load of \`records\` records, then the edge cases on an \`edge-records\` company (0: none)
npm run bench -- latency [rate=2] [seconds=90]
    webhook → RecordUpserted at a plain kafkajs consumer, p50/p99, at \`rate\` changes per second
npm run bench -- steady [orgs=200] [rounds=3] [round-seconds=60] [changes=3] [interval-minutes=15]
    API calls per company per hour and per change, webhooks on, ours against each peer's polling`;

const print = (line: string) => process.stdout.write(`${line}\n`);
const [first, ...rest] = process.argv.slice(2);
const numbers = (args: string[]) => args.map(Number);

if (first === '--help' || first === '-h' || first === 'help') {
  print(USAGE);
  process.exit(0);
}
if (first === 'latency') {
  const [rate = 2, seconds = 90] = numbers(rest);
  const report = await runLatency({ rate, seconds, print });
  print('');
  print(formatLatency(report));
  process.exit(report.lost === 0 ? 0 : 1);
}
if (first === 'steady') {
  const [orgs = 200, rounds = 3, roundSeconds = 60, changesPerRound = 3, intervalMinutes = 15] =
    numbers(rest);
  const report = await runSteady({
    orgs,
    rounds,
    roundSeconds,
    changesPerRound,
    intervalMinutes,
    sample: 1,
    backoffScale: 0.02,
    print,
  });
  print('');
  print(formatSteady(report));
  process.exit(report.oursBehind === 0 ? 0 : 1);
}
const [records = 100_000, edgeRecords = 5_000, backoffScale = 1] = numbers(process.argv.slice(2));
const report = await runStrategies({ records, edgeRecords, backoffScale, print });
print('');
print(formatReport(report));
const broken = oursBroken(report);
for (const what of broken) print(`INVARIANT BROKEN: ${what}`);
process.exit(broken.length === 0 ? 0 : 1);
