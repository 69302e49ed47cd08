// An initial load of a large company through the sync as it runs: the simulator enforcing Intuit's limits, the
// real token-service and a sync-service process on Postgres and Kafka. Prints what the load cost at Intuit,
// where its wall time went and what CPU it took; exits 1 only when an invariant breaks (a record missing or
// different on the change log, a sequence gap, a 429, more calls than the pages need).
//   node services/sync-service/dist/bench/initial-load.js [records=100000]
import { startCpuCount } from '@qbo/event-bus/testing';
import { waitFor } from '@qbo/testkit';
import { type Counters, callsTo, startSimulator } from '../testing/simulator-control.js';
import { newOrg, startSyncStack, topics } from '../testing/sync-stack.js';
import { breakdown, databaseTime } from './breakdown.js';
import { budgetOnlyMs } from './budget-time.js';
import { checkFeed } from './feed-check.js';
import { countProcesses } from './process-cpu.js';

const records = Number(process.argv[2] ?? 100_000);
const ENTITIES = ['Customer', 'Vendor', 'Item', 'Account', 'Invoice', 'Payment'];
const print = (line: string) => process.stdout.write(`${line}\n`);
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const broken: string[] = [];
const invariant = (ok: boolean, what: string) => {
  if (!ok) broken.push(what);
};

const sim = await startSimulator(['--seed', '16', '--companies', '1', '--records', String(records)]);
const stack = await startSyncStack(sim);
try {
  const replica = await stack.startReplica();
  const realmId = sim.realmIds[0] as string;
  const counts = (await sim.companies()).find((c) => c.realmId === realmId)?.counts ?? {};
  const expected = Object.fromEntries(ENTITIES.map((e) => [e, counts[e] ?? 0]));
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  const pages = ENTITIES.reduce((n, e) => n + Math.ceil((expected[e] as number) / 1000), 0);
  print(
    `initial load of ${total.toLocaleString('en')} records over ${ENTITIES.length} entities, Intuit's limits on`,
  );

  const before = await sim.counters();
  const db0 = await databaseTime(stack.db);
  const machine = startCpuCount();
  const processes = countProcesses({
    'sync-service': replica.child.pid,
    'token-service': stack.tokens.process.child.pid,
    simulator: sim.pid,
  });
  const connectedAt = Date.now();
  const orgId = newOrg();
  await stack.connect(realmId, orgId);
  const run = await stack.waitForRun(realmId, { mode: 'initial', status: 'completed' }, 1_800_000);
  await stack.drained(600_000);
  const wallMs = Date.now() - connectedAt;
  const cpu = machine?.();
  const own = processes();
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // Postgres flushes its statistics each second
  const db1 = await databaseTime(stack.db);
  const after = await sim.counters();

  const endpoints = new Set([...Object.keys(before[realmId] ?? {}), ...Object.keys(after[realmId] ?? {})]);
  const calls = (c: Counters, endpoint: string) => c[realmId]?.[endpoint]?.calls ?? 0;
  const used = Object.fromEntries([...endpoints].map((e) => [e, calls(after, e) - calls(before, e)]));
  const statuses = (c: Counters) =>
    Object.values(c[realmId] ?? {}).reduce((n, e) => n + (e.statuses['429'] ?? 0), 0);
  const throttled = statuses(after) - statuses(before);
  const queries = used.query ?? 0;
  // The load's calls: its pages (queries) and its `/batch` calls (the counts, small entities read together).
  const loadCalls = queries + (used.batch ?? 0);
  const logged = async () =>
    (
      await stack.db.query<{ n: number }>(
        'select count(*)::int as n from sync.qbo_api_log where realm_id = $1',
        [realmId],
      )
    )[0]?.n ?? 0;
  await waitFor(async () => (await logged()) >= loadCalls, {
    timeoutMs: 30_000,
    what: 'the API log written',
  });
  const b = await breakdown(stack.db, realmId, connectedAt, run);
  const budgetMs = budgetOnlyMs(loadCalls);

  print(`records per entity: ${ENTITIES.map((e) => `${e} ${expected[e]?.toLocaleString('en')}`).join(', ')}`);
  print(
    `API calls by endpoint: ${Object.entries(used)
      .map(([e, n]) => `${e} ${n}`)
      .join(', ')}; ` +
      `Σ ceil(N/1000) = ${pages}; ratio ${(queries / pages).toFixed(3)} (the run row counts ${run.api_calls})`,
  );
  print(
    `429s received: ${throttled}; token endpoint calls: ${callsTo(after, 'token') - callsTo(before, 'token')}`,
  );
  print(
    `wall time ${s(wallMs)} (connect → last event acknowledged by Kafka), ${Math.round(total / (wallMs / 1000))} records/s; ` +
      `Intuit's budget alone would need ${s(budgetMs)} for ${loadCalls} calls (450/min, 9/s: Intuit's limits less 10 %)`,
  );
  print(
    `where it went: connect (consent, grant stored, event published) → run started ${s(b.toStart)}; Intuit calls ${s(b.inCalls)} (${b.calls} calls, ` +
      `${Math.round(b.inCalls / Math.max(1, b.calls))} ms each); budget waits ${s(b.budgetWait)}; ` +
      `between calls (page parse, mirror and outbox transaction, token) ${s(b.betweenCalls)}; ` +
      `last call → run completed ${s(b.toComplete)}; relay lag to the last event on Kafka ${s(b.relayLag)}`,
  );
  print(
    `Postgres on the sync's database (writers, relay, consumer): ${s(db1.activeMs - db0.activeMs)} executing ` +
      `statements, ${s(db1.idleInTxMs - db0.idleInTxMs)} in open transactions between statements, ` +
      `${(db1.commits - db0.commits).toLocaleString('en')} commits`,
  );
  const us = (seconds: number | undefined) =>
    seconds === undefined ? '?' : `${Math.round((seconds / total) * 1e6)}`;
  if (cpu) {
    const parts = Object.entries(own).map(([name, sec]) => `${name} ${us(sec)}`);
    print(
      `CPU per record (µs): machine ${us(cpu.machine)} (${parts.join(', ')}, postgres ${us(cpu.postgres)}, ` +
        `broker ${us(cpu.broker)}); cores busy ${Math.round((cpu.machine / (cpu.machine + cpu.idle)) * 100)} %`,
    );
  }

  const log = (await stack.readAll(topics.records))
    .map((m) => m.value)
    .filter((v) => v !== null && v.orgId === orgId && v.type.startsWith('Record'));
  const check = await checkFeed(sim, realmId, ENTITIES, log as never);
  print(
    `on qbo.records.v1: ${check.events.toLocaleString('en')} events; matching the simulator record by record: ` +
      `${ENTITIES.map((e) => `${e} ${check.perEntity[e]?.toLocaleString('en')}`).join(', ')}`,
  );
  invariant(
    check.problems.length === 0,
    `the change log against the simulator: ${check.problems.join('; ')}`,
  );
  invariant(throttled === 0, `${throttled} 429s received`);
  invariant(loadCalls <= 1.02 * pages + ENTITIES.length + 1, `${loadCalls} calls for ${pages} pages`);
  invariant(
    run.api_calls === loadCalls,
    `the run row counts ${run.api_calls} calls, the simulator ${loadCalls}`,
  );
} finally {
  await stack.stop();
  await sim.stop();
}
for (const what of broken) print(`INVARIANT BROKEN: ${what}`);
process.exit(broken.length === 0 ? 0 : 1);
