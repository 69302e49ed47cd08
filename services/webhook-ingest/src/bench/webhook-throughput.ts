// Verified webhooks/s and latency to the Kafka acknowledgement (the service answers 200 only after acks=all),
// next to a bare Hono endpoint that only verifies the HMAC, and, in interleaved rounds with the median ratio,
// next to a minimal durable receiver (Hono + HMAC + a kafkajs acks=all send), with the CPU per request by
// process, in one run on this machine:
//   node services/webhook-ingest/dist/bench/webhook-throughput.js [seconds=10] [concurrency=32] [rounds=3]
// Needs the local broker and Postgres, as the integration tests do.
import { fileURLToPath } from 'node:url';
import { createTestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import {
  createTestDatabase,
  type ServiceProcess,
  startCpuCount,
  startProcess,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import { sign } from '../domain/signature.js';
import {
  connectionsProducer,
  connectRealm,
  messageCount,
  NEW_TOKEN,
  startIngest,
} from '../testing/harness.js';
import { closedLoop, type LoadResult, type NextBody, openLoop, percentile } from './load.js';

const seconds = Number(process.argv[2] ?? 10);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 3);
const print = (line: string) => process.stdout.write(`${line}\n`);
const REALM = '9341453050412345';

let n = 0;
/** A legacy delivery of one change, different every time (its own entity id: no dedupe), signed like Intuit's. */
const nextBody: NextBody = () => {
  n++;
  const body = JSON.stringify({
    eventNotifications: [
      {
        realmId: REALM,
        dataChangeEvent: {
          entities: [
            {
              name: 'Customer',
              id: String(n),
              operation: 'Update',
              // Now: the service keeps (does not publish) a change older than its age limit.
              lastUpdated: new Date().toISOString(),
            },
          ],
        },
      },
    ],
  });
  return { body, signature: sign(body, NEW_TOKEN) };
};

const line = (name: string, r: LoadResult) =>
  `${name.padEnd(34)} ${Math.round((r.ok / r.ms) * 1000)
    .toLocaleString('en')
    .padStart(7)} req/s   ok ${String(r.ok).padStart(6)}   failed ${String(r.failed).padStart(4)}   ` +
  `p50 ${percentile(r.latencies, 50).toFixed(1)} ms   p99 ${percentile(r.latencies, 99).toFixed(1)} ms   ` +
  `max ${(r.latencies.at(-1) ?? Number.NaN).toFixed(1)} ms`;

/** A closed-loop run against `target`, with the CPU per answered request by process. */
async function measured(name: string, server: ServiceProcess, target: string) {
  const stop = startCpuCount({ server: server.child.pid });
  const r = await closedLoop(target, nextBody, concurrency, seconds * 1000);
  const cpu = stop?.();
  print(line(name, r));
  if (cpu) {
    const us = (sec: number) => Math.round((sec / r.ok) * 1e6);
    print(
      `  CPU per request: ${us(cpu.machine)} µs (server ${us(cpu.named.server ?? Number.NaN)}, ` +
        `broker ${us(cpu.broker)}, postgres ${us(cpu.postgres)}, load generator ${us(cpu.self)}); ` +
        `cores busy ${Math.round((cpu.machine / (cpu.machine + cpu.idle)) * 100)} %`,
    );
  }
  return r;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
const perSecond = (r: LoadResult) => r.ok / r.ms;

const db = await createTestDatabase('webhook-bench');
const bus = await createTestBus({ topics: [topics.connections, topics.webhooks, topics.webhooksParked] });
const profile = process.env.BENCH_PROFILE
  ? { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/webhook-ingest-prof' }
  : {};
const cleanup: (() => Promise<unknown>)[] = [() => db.drop()];
try {
  const ingest = await startIngest(db, bus, testBrokers(), { LOG_LEVEL: 'info', ...profile });
  cleanup.unshift(() => ingest.stop());
  const bare = await startProcess({
    entry: fileURLToPath(new URL('bare-server.js', import.meta.url)),
    env: { WEBHOOK_VERIFIER_TOKENS: NEW_TOKEN },
  });
  cleanup.unshift(() => bare.stop());
  const durableTopic = `${bus.prefix}bench.durable`;
  const admin = bus.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: durableTopic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const durable = await startProcess({
    entry: fileURLToPath(new URL('durable-server.js', import.meta.url)),
    env: {
      WEBHOOK_VERIFIER_TOKENS: NEW_TOKEN,
      KAFKA_BROKERS: testBrokers().join(','),
      DURABLE_TOPIC: durableTopic,
    },
  });
  cleanup.unshift(() => durable.stop());
  const producer = await connectionsProducer(bus);
  cleanup.unshift(() => producer.disconnect());
  await connectRealm(producer, 'org-bench', REALM);
  await waitFor(
    async () => (await db.query('select 1 from webhook.realm_org where realm_id = $1', [REALM])).length === 1,
    { timeoutMs: 60_000, what: 'the realm linked' },
  );
  const ingestUrl = `${ingest.url}/webhooks/quickbooks`;
  const bareUrl = `${bare.url}/webhooks/quickbooks`;
  const durableUrl = `${durable.url}/webhooks/quickbooks`;
  // Warm them up (JIT, connection pools, the producers' metadata).
  await closedLoop(bareUrl, nextBody, 8, 2_000);
  await closedLoop(durableUrl, nextBody, 8, 2_000);
  await closedLoop(ingestUrl, nextBody, 8, 2_000);
  const durableBefore = await messageCount(bus.kafka, durableTopic);

  const before = await messageCount(bus.kafka, bus.names.physical(topics.webhooks));
  print(
    `${seconds} s per run, ${concurrency} keep-alive clients for throughput, ${rounds} interleaved rounds; ` +
      '2 cores shared by all',
  );
  const bareMax = await measured('bare Hono, HMAC only (max)', bare, bareUrl);
  const ratios: number[] = [];
  const bareRatios: number[] = [];
  let ingestOk = 0;
  let durableOk = 0;
  for (let round = 1; round <= rounds; round++) {
    print(`round ${round}:`);
    const durableMax = await measured('durable Hono + HMAC + acks=all send', durable, durableUrl);
    const ingestMax = await measured('webhook-ingest to Kafka ack (max)', ingest, ingestUrl);
    durableOk += durableMax.ok;
    ingestOk += ingestMax.ok;
    ratios.push(perSecond(ingestMax) / perSecond(durableMax));
    bareRatios.push(perSecond(ingestMax) / perSecond(bareMax));
    print(
      `  ratio to the durable receiver ${ratios.at(-1)?.toFixed(2)}, to bare ${bareRatios.at(-1)?.toFixed(2)}`,
    );
  }
  const paced = await openLoop(ingestUrl, nextBody, 500, seconds * 1000);
  print(line('webhook-ingest at 500 req/s', paced));
  const after = await messageCount(bus.kafka, bus.names.physical(topics.webhooks));
  const durableAfter = await messageCount(bus.kafka, durableTopic);
  print(`median ratio to the durable receiver: ${median(ratios).toFixed(2)} (target ≥ 0.60)`);
  print(`median ratio to bare: ${median(bareRatios).toFixed(2)}`);
  print(
    `${after - before} events on qbo.webhooks.v1 for ${ingestOk + paced.ok} answers 200; ` +
      `${durableAfter - durableBefore} messages on the durable receiver's topic for ${durableOk} answers 200`,
  );
} finally {
  for (const step of cleanup) await step();
}
