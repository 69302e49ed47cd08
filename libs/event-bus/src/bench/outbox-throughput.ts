// Throughput of the whole path — outbox rows committed in transactions → relay → Kafka → typed consumer —
// next to a bare kafkajs produce/consume loop with the same durability settings, in one run on one broker.
// Each side produces from a child process (as a producing service would) and consumes in this one.
//   node libs/event-bus/dist/bench/outbox-throughput.js [events=100000] [rounds=3]
// Needs the local broker (KAFKA_BROKERS) and Postgres (DATABASE_URL), as the integration tests do.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AnyEnvelope, topics } from '@qbo/events';
import { createTestDatabase, testBrokers, uniqueName, waitFor } from '@qbo/testkit';
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

/** Starts the producing process and resolves with the time from its first send to `done()`. */
async function timed(args: string[], env: Record<string, string>, done: () => boolean) {
  const proc: ChildProcess = fork(child, args, {
    env: { ...process.env, ...env },
    // kafkajs schedules negative timeouts (tulios/kafkajs#1751); the warning is noise.
    execArgv: ['--disable-warning=TimeoutNegativeWarning'],
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let t0 = 0;
  let writtenMs = 0;
  proc.on('message', (m: ProducerReport) => {
    if (m.kind === 'started') t0 = performance.now();
    if (m.kind === 'written') writtenMs = m.ms;
  });
  await waitFor(() => t0 > 0, { timeoutMs: 120_000, intervalMs: 5 });
  await waitFor(done, { timeoutMs: 600_000, intervalMs: 5 });
  const ms = performance.now() - t0;
  // The bare producer exits on its own once it has written; a stop sent as it goes is answered EPIPE.
  if (proc.connected) proc.send('stop', () => undefined);
  await exited;
  return { ms, writtenMs };
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

async function outbox(count: number, withInbox: boolean, role: 'outbox' | 'drain' = 'outbox') {
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
for (let round = 1; round <= rounds; round++) {
  const b = await bare(await createTestBus({ topics: [] }));
  const o = await outbox(total, false);
  ratios.push(b.ms / o.ms);
  print(
    `round ${round}: bare kafkajs produce → consume ${rate(total, b.ms)}; ` +
      `outbox → relay → Kafka → typed consumer ${rate(total, o.ms)} ` +
      `(writes committed by ${Math.round(o.writtenMs)} ms); ratio ${(b.ms / o.ms).toFixed(2)}`,
  );
}
const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)] ?? Number.NaN;
print(`median ratio to bare: ${median.toFixed(2)} (target ≥ 0.50)`);
const b = await bare(await createTestBus({ topics: [] }));
const d = await outbox(total, false, 'drain');
print(
  `relay → Kafka → consumer, outbox pre-filled: ${rate(total, d.ms)} (ratio ${(b.ms / d.ms).toFixed(2)})`,
);
const i = await outbox(inboxTotal, true);
print(
  `same, with an inbox transaction per event:  ${rate(inboxTotal, i.ms)} (${inboxTotal.toLocaleString('en')} events)`,
);
process.exit(0);
