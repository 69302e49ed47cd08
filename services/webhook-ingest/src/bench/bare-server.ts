// The baseline of the benchmark: a plain Hono endpoint that reads the raw body and verifies the HMAC, nothing else.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createLogger } from '@qbo/service-kit';
import { Hono } from 'hono';
import { verifySignature } from '../domain/signature.js';

const tokens = (process.env.WEBHOOK_VERIFIER_TOKENS ?? '').split(',');
const log = createLogger({ service: 'bare-webhook', level: 'info' });
const app = new Hono();
app.post('/webhooks/quickbooks', async (c) => {
  const raw = new Uint8Array(await c.req.arrayBuffer());
  return verifySignature(raw, c.req.header('intuit-signature'), tokens)
    ? c.json({ ok: true })
    : c.json({ ok: false }, 401);
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
  log.info({ port: info.port }, 'service started');
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
