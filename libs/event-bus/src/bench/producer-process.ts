// The producing side of the benchmark, in its own process as a producing service would be:
//   bare:   a kafkajs producer sending the events in batches of 1,000 (acks=all, idempotent)
//   outbox: four writers committing the events to the outbox in transactions of 1,000, and the relay
//   drain:  the same writes first, then the relay alone

import type { MikroORM } from '@mikro-orm/postgresql';
import { createKafka, createLogger, openDatabase } from '@qbo/service-kit';
import { eventBusMigrations } from '../migrations.js';
import { createOutbox } from '../outbox/outbox.js';
import { createOutboxRelay } from '../outbox/relay.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { createTopicNames } from '../topic-names.js';
import { cpuSecondsSince } from './cpu.js';
import { BATCH, type ProducerReport, smallEvents } from './sample.js';

const [role, countArg] = process.argv.slice(2);
const total = Number(countArg);
const env = process.env;
const log = createLogger({ service: 'bench-producer', level: 'silent' });
const kafka = createKafka({ brokers: String(env.KAFKA_BROKERS).split(','), clientId: 'bench-producer', log });
const report = (r: ProducerReport) => process.send?.(r);
const sample = smallEvents(total);
let cpuSince = process.cpuUsage();
/** Counts CPU from here on: building the sample and starting up are not part of the run. */
const started = () => {
  cpuSince = process.cpuUsage();
  report({ kind: 'started' });
};
const reportCpu = () =>
  new Promise<void>((resolve) =>
    process.send?.({ kind: 'cpu', seconds: cpuSecondsSince(cpuSince) } satisfies ProducerReport, () =>
      resolve(),
    ),
  );

if (role === 'bare') {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  started();
  const t0 = performance.now();
  for (let i = 0; i < sample.length; i += BATCH) {
    await producer.send({
      topic: String(env.BARE_TOPIC),
      acks: -1,
      messages: sample.slice(i, i + BATCH).map((e) => ({ key: e.orgId, value: JSON.stringify(e) })),
    });
  }
  report({ kind: 'written', ms: performance.now() - t0 });
  await producer.disconnect();
  await reportCpu();
} else {
  const schema = String(env.OUTBOX_SCHEMA);
  const orm: MikroORM = await openDatabase({
    url: String(env.DATABASE_URL),
    schema,
    poolMax: 6,
    log,
    migrations: eventBusMigrations,
  });
  const outbox = createOutbox({ schema });
  const relay = createOutboxRelay({
    connectionString: String(env.DATABASE_URL),
    schema,
    kafka,
    serde: createJsonSerde(),
    log,
    names: createTopicNames(env.KAFKA_TOPIC_PREFIX),
    batchSize: BATCH,
    idlePollMs: 10,
  });
  let cursor = 0;
  // Four writers, as concurrent requests of a service would be.
  const writer = async () => {
    while (cursor < sample.length) {
      const slice = sample.slice(cursor, cursor + BATCH);
      cursor += BATCH;
      await orm.em.fork().transactional((em) => outbox.add(em, slice));
    }
  };
  const writeAll = async () => {
    const t0 = performance.now();
    await Promise.all([writer(), writer(), writer(), writer()]);
    return performance.now() - t0;
  };
  if (role === 'drain') {
    // The outbox already full when the relay starts: the relay and consumer alone.
    const ms = await writeAll();
    started();
    relay.start();
    report({ kind: 'written', ms });
  } else {
    relay.start();
    started();
    report({ kind: 'written', ms: await writeAll() });
  }
  // The benchmark asks for the CPU spent once the consumer has everything, then says stop.
  await new Promise<void>((resolve) =>
    process.on('message', (m) => {
      if (m === 'cpu') void reportCpu();
      else resolve();
    }),
  );
  await relay.stop();
  await orm.close();
}
process.exit(0);
