// Sync strategies side by side (see strategies.ts). Exits 1 only when our strategy breaks an invariant (a record
// missed or wrong, a 429, a failed run), never on speed.
//   node services/sync-service/dist/bench/strategies-cli.js [records=100000] [edge-records=5000] [backoff-scale=1]
import { formatReport, oursBroken, runStrategies } from './strategies.js';

const [records = 100_000, edgeRecords = 5_000, backoffScale = 1] = process.argv.slice(2).map(Number);
const print = (line: string) => process.stdout.write(`${line}\n`);
const report = await runStrategies({ records, edgeRecords, backoffScale, print });
print('');
print(formatReport(report));
const broken = oursBroken(report);
for (const what of broken) print(`INVARIANT BROKEN: ${what}`);
process.exit(broken.length === 0 ? 0 : 1);
