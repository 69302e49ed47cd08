// Verified webhooks/s and latency to the Kafka acknowledgement (the service answers 200 only after acks=all),
// next to a bare Hono endpoint that only verifies the HMAC, in one run on this machine:
//   node services/webhook-ingest/dist/bench/webhook-throughput.js [seconds=10] [concurrency=32]
// Needs the local broker and Postgres, as the integration tests do.
import { fileURLToPath } from 'node:url';
import { createTestBus } from '@qbo/event-bus/testing';
import { topics } from '@qbo/events';
import { createTestDatabase, startProcess, testBrokers, waitFor } from '@qbo/testkit';
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
const print = (line: string) => process.stdout.write(`${line}\n`);
const REALM = '9341453050412345';

let n = 0;
const started = Date.parse('2026-01-01T00:00:00Z');
/** A legacy delivery of one change, different every time (no dedupe), signed like Intuit's. */
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
              lastUpdated: new Date(started + n).toISOString(),
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
  const producer = await connectionsProducer(bus);
  cleanup.unshift(() => producer.disconnect());
  await connectRealm(producer, 'org-bench', REALM);
  await waitFor(
    async () => (await db.query('select 1 from webhook.realm_org where realm_id = $1', [REALM])).length === 1,
    { timeoutMs: 60_000, what: 'the realm linked' },
  );
  const ingestUrl = `${ingest.url}/webhooks/quickbooks`;
  const bareUrl = `${bare.url}/webhooks/quickbooks`;
  // Warm both up (JIT, connection pools, the producer's metadata).
  await closedLoop(bareUrl, nextBody, 8, 2_000);
  await closedLoop(ingestUrl, nextBody, 8, 2_000);

  const before = await messageCount(bus.kafka, bus.names.physical(topics.webhooks));
  print(`${seconds} s per run, ${concurrency} keep-alive clients for throughput; 2 cores shared by all`);
  const bareMax = await closedLoop(bareUrl, nextBody, concurrency, seconds * 1000);
  print(line('bare Hono, HMAC only (max)', bareMax));
  const ingestMax = await closedLoop(ingestUrl, nextBody, concurrency, seconds * 1000);
  print(line('webhook-ingest to Kafka ack (max)', ingestMax));
  const paced = await openLoop(ingestUrl, nextBody, 500, seconds * 1000);
  print(line('webhook-ingest at 500 req/s', paced));
  const after = await messageCount(bus.kafka, bus.names.physical(topics.webhooks));
  print(
    `ratio ${(ingestMax.ok / ingestMax.ms / (bareMax.ok / bareMax.ms)).toFixed(2)} of bare throughput; ` +
      `${after - before} events on qbo.webhooks.v1 for ${ingestMax.ok + paced.ok} answers 200`,
  );
} finally {
  for (const step of cleanup) await step();
}
