// The producing side of the benchmark, in its own process as a producing service would be:
//   bare:   a kafkajs producer sending the events in batches of 1,000 (acks=all, idempotent)
//   outbox: four writers committing the events to the outbox in transactions of 1,000, and the relay
//   drain:  the same writes first, then the relay alone
//   dual:   the dual write the outbox replaces: four writers each committing the events as rows of a plain
//           table in transactions of 1,000, then publishing them with the bus's producer (acks=all); unsafe,
//           since a crash between the commit and the ack loses the events, but it does no relay work

import type { MikroORM } from '@mikro-orm/postgresql';
import { createKafka, createLogger, openDatabase } from '@qbo/service-kit';
import { cpuSecondsSince } from '@qbo/testkit';
import { eventBusMigrations } from '../migrations.js';
import { createOutbox } from '../outbox/outbox.js';
import { createOutboxRelay } from '../outbox/relay.js';
import { createEventProducer } from '../producer.js';
import { createJsonSerde } from '../serde/json-serde.js';
import { executeInTransaction } from '../sql.js';
import { createTopicNames } from '../topic-names.js';
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
  const names = createTopicNames(env.KAFKA_TOPIC_PREFIX);
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
    names,
    batchSize: BATCH,
    idlePollMs: 10,
  });
  const producer =
    role === 'dual' ? createEventProducer({ kafka, serde: createJsonSerde(), names, log }) : undefined;
  // The dual write's state: the same rows, as one JSON parameter, as the outbox writes them.
  const state = `${schema}.bench_state`;
  if (producer) {
    await producer.connect();
    await orm.em.execute(
      `create table if not exists ${state} (id uuid primary key, org_id text, payload json)`,
    );
  }
  const insertState = `insert into ${state} (id, org_id, payload)
    select id, org_id, payload from json_to_recordset($1::json) as r(id uuid, org_id text, payload json)`;
  let cursor = 0;
  // Four writers, as concurrent requests of a service would be.
  const writer = async () => {
    while (cursor < sample.length) {
      const slice = sample.slice(cursor, cursor + BATCH);
      cursor += BATCH;
      if (!producer) {
        await orm.em.fork().transactional((em) => outbox.add(em, slice));
        continue;
      }
      const rows = JSON.stringify(slice.map((e) => ({ id: e.id, org_id: e.orgId, payload: e })));
      await orm.em
        .fork()
        .transactional((em) => executeInTransaction(em, 'the state write', insertState, [rows]));
      await producer.publish(slice);
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
  } else if (producer) {
    started();
    report({ kind: 'written', ms: await writeAll() });
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
  if (producer) await producer.disconnect();
  else await relay.stop();
  await orm.close();
}
process.exit(0);
