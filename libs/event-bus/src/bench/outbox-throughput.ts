// Throughput of the whole path — outbox rows committed in transactions → relay → Kafka → typed consumer —
// next to a bare kafkajs produce/consume loop with the same durability settings, and next to the dual write the
// outbox replaces (commit the rows, then publish them; the same typed consumer), in one run on one broker.
// Each side produces from a child process (as a producing service would) and consumes in this one.
//   node libs/event-bus/dist/bench/outbox-throughput.js [events=100000] [rounds=3]
// Needs the local broker (KAFKA_BROKERS) and Postgres (DATABASE_URL), as the integration tests do.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AnyEnvelope, topics } from '@qbo/events';
import {
  type CpuUse,
  createTestDatabase,
  startCpuCount,
  testBrokers,
  uniqueName,
  waitFor,
} from '@qbo/testkit';
import { createEventConsumer } from '../consumer/consumer.js';
import type { EventHandler } from '../consumer/handlers.js';
import { createInbox, exactlyOnce } from '../inbox/inbox.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { openTestStore, testSchema } from '../testing/store.js';

import type { ProducerReport } from './sample.js';

const total = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const inboxTotal = Math.min(total, 20_000);
const child = fileURLToPath(new URL('producer-process.js', import.meta.url));
const print = (line: string) => process.stdout.write(`${line}\n`);
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')} events/s`;

/** One run: the time from the producer's first send to `done()`, and the CPU it took, by who took it. */
interface Run {
  ms: number;
  writtenMs: number;
  cpu: (CpuUse & { producer: number }) | undefined;
}

/** Starts the producing process and measures the run until `done()`. */
async function timed(args: string[], env: Record<string, string>, done: () => boolean): Promise<Run> {
  const proc: ChildProcess = fork(child, args, {
    env: { ...process.env, ...env },
    // kafkajs schedules negative timeouts (tulios/kafkajs#1751); the warning is noise.
    execArgv: ['--disable-warning=TimeoutNegativeWarning'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let t0 = 0;
  let writtenMs = 0;
  let producerCpu = Number.NaN;
  let stopCounting: (() => CpuUse) | undefined;
  proc.on('message', (m: ProducerReport) => {
    if (m.kind === 'started') {
      t0 = performance.now();
      stopCounting = startCpuCount();
    }
    if (m.kind === 'written') writtenMs = m.ms;
    if (m.kind === 'cpu') producerCpu = m.seconds;
  });
  await waitFor(() => t0 > 0, { timeoutMs: 120_000, intervalMs: 5 });
  await waitFor(done, { timeoutMs: 600_000, intervalMs: 5 });
  const ms = performance.now() - t0;
  const used = stopCounting?.();
  // A relay still running is asked for its CPU; the bare producer reports it as it exits. Either may be exiting
  // as a message is sent, which is answered EPIPE.
  if (proc.connected) proc.send('cpu', () => undefined);
  await waitFor(() => !Number.isNaN(producerCpu), { timeoutMs: 10_000, intervalMs: 5 });
  if (proc.connected) proc.send('stop', () => undefined);
  await exited;
  return { ms, writtenMs, cpu: used && { ...used, producer: producerCpu } };
}

/** A run's CPU per event, and how busy it kept the cores. */
interface CpuPerEvent {
  name: string;
  /** Machine CPU µs per event, unrounded. */
  us: number;
  busy: number;
  parts: string;
}

function cpuPerEvent(name: string, run: Run, events: number): CpuPerEvent | undefined {
  if (!run.cpu) return undefined;
  const us = (seconds: number) => (seconds / events) * 1e6;
  const round = (seconds: number) => Math.round(us(seconds));
  const { machine, idle, postgres, broker, producer, self } = run.cpu;
  return {
    name,
    us: us(machine),
    busy: machine / (machine + idle),
    parts: `postgres ${round(postgres)}, broker ${round(broker)}, producing process ${round(producer)}, consumer ${round(self)}`,
  };
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

/** `bare 16 µs (…), outbox 42 µs (…); cores busy 88 % and 90 %`, or nothing off Linux. */
function cpuLine(runs: ReadonlyArray<CpuPerEvent | undefined>): string | undefined {
  const all = runs.filter((c) => c !== undefined);
  if (all.length !== runs.length) return undefined;
  const per = all.map((c) => `${c.name} ${Math.round(c.us)} µs (${c.parts})`).join('; ');
  return `  CPU per event: ${per}; cores busy ${all.map((c) => pct(c.busy)).join(' and ')}`;
}

async function bare(bus: TestBus) {
  const topic = `${bus.prefix}bench.bare`;
  const admin = bus.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const consumer = bus.kafka.consumer({ groupId: uniqueName('bare') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      JSON.parse(String(message.value));
      received++;
    },
  });
  const run = await timed(
    ['bare', String(total)],
    { KAFKA_BROKERS: testBrokers().join(','), BARE_TOPIC: topic },
    () => received >= total,
  );
  await consumer.disconnect();
  return run;
}

async function outbox(count: number, withInbox: boolean, role: 'outbox' | 'drain' | 'dual' = 'outbox') {
  // Topics of its own: each run reads only its own events.
  const bus = await createTestBus({ topics: [topics.commands] });
  const db = await createTestDatabase('bench');
  const orm = await openTestStore(db);
  let received = 0;
  const group = uniqueName('bench');
  const count1: EventHandler<AnyEnvelope> = async () => void received++;
  const handler = withInbox ? exactlyOnce(orm, createInbox({ schema: testSchema, group }), count1) : count1;
  const consumer = createEventConsumer({
    kafka: bus.kafka,
    groupId: group,
    serde: createJsonSerde(),
    log: bus.log,
    names: bus.names,
    topics: [topics.commands],
    handlers: { RequestSync: handler },
  });
  await consumer.start();
  const run = await timed(
    [role, String(count)],
    {
      KAFKA_BROKERS: testBrokers().join(','),
      DATABASE_URL: db.url,
      OUTBOX_SCHEMA: testSchema,
      KAFKA_TOPIC_PREFIX: bus.prefix,
    },
    () => received >= count,
  );
  await consumer.stop();
  await orm.close();
  await db.drop();
  return run;
}

print(
  `${total.toLocaleString('en')} small events (~230 bytes), 50 orgs, 3 partitions, acks=all, idempotent producers; ` +
    `${rounds} interleaved rounds`,
);
// Interleaved rounds and the median ratio: on a shared two-core machine one quiet or busy second moves a
// single run's ratio by a tenth either way.
const ratios: number[] = [];
const dualRatios: number[] = [];
const ceilings: number[] = [];
const dualCeilings: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const b = await bare(await createTestBus({ topics: [] }));
  const w = await outbox(total, false, 'dual');
  const o = await outbox(total, false);
  ratios.push(b.ms / o.ms);
  dualRatios.push(w.ms / o.ms);
  print(
    `round ${round}: bare kafkajs produce → consume ${rate(total, b.ms)}; ` +
      `dual write (commit, then publish) → typed consumer ${rate(total, w.ms)}; ` +
      `outbox → relay → Kafka → typed consumer ${rate(total, o.ms)} ` +
      `(writes committed by ${Math.round(o.writtenMs)} ms); ratio to bare ${(b.ms / o.ms).toFixed(2)}, ` +
      `to dual write ${(w.ms / o.ms).toFixed(2)}`,
  );
  const cb = cpuPerEvent('bare', b, total);
  const cw = cpuPerEvent('dual write', w, total);
  const co = cpuPerEvent('outbox', o, total);
  const line = cpuLine([cb, cw, co]);
  if (line) print(line);
  // Throughput is cores × busy share ÷ CPU per event, so were the outbox run to keep every core busy, its
  // ratio could reach the baseline's CPU per event ÷ outbox CPU per event ÷ the baseline's busy share.
  if (cb && co) ceilings.push(cb.us / co.us / cb.busy);
  if (cw && co) dualCeilings.push(cw.us / co.us / cw.busy);
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
print(`median ratio to bare: ${median(ratios).toFixed(2)} (target ≥ 0.50)`);
print(`median ratio to the dual write: ${median(dualRatios).toFixed(2)} (target ≥ 0.70)`);
if (ceilings.length > 0) {
  print(
    `CPU-bound ceiling: with every core busy the outbox could reach ${median(ceilings).toFixed(2)} of bare ` +
      `and ${median(dualCeilings).toFixed(2)} of the dual write (the baseline's CPU per event ÷ outbox CPU per ` +
      'event ÷ the share of the cores the baseline kept busy, median of rounds)',
  );
}
const b = await bare(await createTestBus({ topics: [] }));
const d = await outbox(total, false, 'drain');
print(
  `relay → Kafka → consumer, outbox pre-filled: ${rate(total, d.ms)} (ratio ${(b.ms / d.ms).toFixed(2)})`,
);
const drainLine = cpuLine([cpuPerEvent('bare', b, total), cpuPerEvent('relay alone', d, total)]);
if (drainLine) print(drainLine);
const i = await outbox(inboxTotal, true);
print(
  `same, with an inbox transaction per event:  ${rate(inboxTotal, i.ms)} (${inboxTotal.toLocaleString('en')} events)`,
);
process.exit(0);
