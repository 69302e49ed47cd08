// A minimal service for the telemetry test: one request that queries Postgres through MikroORM and
// produces to Kafka through kafkajs, with the kit's own logger, HTTP app and server.
import { parseConfig, serviceEnvSchema } from '../config.js';
import { openDatabase } from '../database.js';
import { createHttpApp, startHttpServer } from '../http.js';
import { createKafka } from '../kafka.js';
import { createLogger } from '../logger.js';
import { createReadiness } from '../readiness.js';
import { exporter } from './telemetry-preload.js';

const config = parseConfig(serviceEnvSchema, process.env);
const topic = process.env.TEST_TOPIC ?? 'telemetry-test';
const log = createLogger({ service: 'telemetry-fixture', level: config.LOG_LEVEL });
const orm = await openDatabase({
  url: config.DATABASE_URL,
  schema: 'fixture',
  poolMax: 2,
  log,
  migrations: [],
});
const producer = createKafka({
  brokers: config.KAFKA_BROKERS,
  clientId: 'telemetry-fixture',
  log,
}).producer();
await producer.connect();

const app = createHttpApp({ log, readiness: createReadiness({ checks: {}, timeoutMs: 1_000 }) });
app.post('/work/:id', async (c) => {
  await orm.em.getConnection().execute('select 1 as one');
  await producer.send({ topic, acks: -1, messages: [{ key: c.req.param('id'), value: 'work' }] });
  log.info({ id: c.req.param('id') }, 'work done');
  return c.json({ ok: true });
});
app.get('/callback', (c) => c.json({ ok: c.req.query('code') !== undefined }));
app.get('/spans', (c) =>
  c.json(
    exporter.getFinishedSpans().map((s) => ({
      name: s.name,
      kind: s.kind,
      traceId: s.spanContext().traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId,
      scope: s.instrumentationScope.name,
      attributes: s.attributes,
    })),
  ),
);

const server = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
log.info({ port: server.port }, 'service started');
process.once('SIGTERM', async () => {
  await server.close(1_000);
  await producer.disconnect();
  await orm.close();
  process.exit(0);
});
