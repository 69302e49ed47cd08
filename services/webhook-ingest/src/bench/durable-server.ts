// The fair baseline of the benchmark: the least a durable receiver does. A plain Hono endpoint that reads the raw
// body, verifies the HMAC and answers 200 once a kafkajs producer's send of the body was acknowledged with
// acks=all; nothing else (no dedupe, no realm lookup, no event envelope, no tracing, no batching of its own).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createKafka, createLogger } from '@qbo/service-kit';
import { Hono } from 'hono';
import { verifySignature } from '../domain/signature.js';

const env = process.env;
const tokens = (env.WEBHOOK_VERIFIER_TOKENS ?? '').split(',');
const topic = String(env.DURABLE_TOPIC);
const log = createLogger({ service: 'durable-webhook', level: 'info' });
const kafka = createKafka({
  brokers: String(env.KAFKA_BROKERS).split(','),
  clientId: 'durable-webhook',
  log,
});
// kafkajs's defaults: several requests in flight, so concurrent deliveries' sends overlap.
const producer = kafka.producer();
await producer.connect();
const app = new Hono();
app.post('/webhooks/quickbooks', async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (!verifySignature(raw, c.req.header('intuit-signature'), tokens)) return c.json({ ok: false }, 401);
  await producer.send({ topic, acks: -1, messages: [{ value: Buffer.from(raw) }] });
  return c.json({ ok: true });
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
  log.info({ port: info.port }, 'service started');
});
process.once('SIGTERM', () => server.close(() => void producer.disconnect().then(() => process.exit(0))));
