// Runs the compiled test files with Node's test runner. Three kinds, told apart by name:
//   *.test.ts       unit tests: in-memory fakes only, no broker, database or child process
//   *.int.test.ts   integration tests: real Kafka, Postgres, Redis, the simulator over HTTP
//   *.e2e.test.ts   whole-service tests: a service (or the whole stack) started as it runs, on the same
// Integration and whole-service tests need the local Kafka broker: when none answers, this starts one for the
// run and stops it afterwards.
//   node scripts/test.mjs            every test
//   node scripts/test.mjs --unit     unit tests only
//   node scripts/test.mjs <filter>   only files whose path contains <filter>
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, brokerAddress, start, stop } from '../tools/local-kafka/dist/index.js';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));
const needsInfrastructure = (f) => /\.(int|e2e)\.test\.js$/.test(f);

const files = globSync([
  'libs/*/dist/**/*.test.js',
  'services/*/dist/**/*.test.js',
  'tools/*/dist/**/*.test.js',
  'examples/*/dist/**/*.test.js',
])
  // A compiled test whose source was renamed or removed is left behind in dist/ by tsc: not a test any more.
  .filter((f) => existsSync(f.replace('/dist/', '/src/').replace(/\.js$/, '.ts')))
  .filter((f) => !unitOnly || !needsInfrastructure(f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  process.stderr.write('no test files matched\n');
  process.exit(1);
}

const needsKafka = files.some(needsInfrastructure);
const address = process.env.KAFKA_BROKERS ?? brokerAddress();
let startedHere = false;
if (needsKafka && !(await answers(address))) {
  const log = (line) => process.stdout.write(`[kafka] ${line}\n`);
  startedHere = (await start({ log })).started;
}

// Attack tests (see @qbo/testkit's attack()) are counted apart: how many were tried, how many were accepted.
const attackDir = mkdtempSync(join(tmpdir(), 'qbo-attacks-'));
const attackLog = join(attackDir, 'attacks.jsonl');
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('attack-reporter.mjs', import.meta.url).pathname}`,
    `--test-reporter-destination=${attackLog}`,
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      KAFKA_BROKERS: address,
      // kafkajs 2.2.4 schedules negative timeouts, which Node 24+ warns about on every connection; the behaviour
      // is unchanged (Node clamps to 1 ms). https://github.com/tulios/kafkajs/issues/1751
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim(),
    },
  },
);

const attacks = existsSync(attackLog)
  ? readFileSync(attackLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
rmSync(attackDir, { recursive: true, force: true });
if (attacks.length > 0) {
  const accepted = attacks.filter((a) => a.accepted);
  process.stdout.write(`\nattacks tried: ${attacks.length}, accepted: ${accepted.length}\n`);
  for (const a of accepted) process.stdout.write(`  accepted: ${a.name}\n`);
}

if (startedHere) await stop({ log: (line) => process.stdout.write(`[kafka] ${line}\n`) });
process.exit(result.status ?? 1);
