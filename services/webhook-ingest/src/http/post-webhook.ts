import type { IncomingMessage } from 'node:http';
import { AppError, type Logger } from '@qbo/service-kit';
import type { Context, Hono } from 'hono';
import type { HandleDelivery } from '../ingest/handle-delivery.js';
import type { WebhookMetrics } from '../metrics.js';
import { type RawBody, readRawBody } from './raw-body.js';

export interface WebhookRouteDeps {
  handle: HandleDelivery;
  metrics: WebhookMetrics;
  log: Logger;
  maxBodyBytes: number;
  /** Intuit waits 3 s; past this the answer is 503, so it retries rather than times out. */
  deadlineMs: number;
}

const problem = (status: 400 | 401 | 413 | 503, code: string, title: string) =>
  new AppError(code, title, { status });

class DeadlineExceeded extends Error {}

export function postWebhook(
  app: Hono,
  { handle, metrics, log, maxBodyBytes, deadlineMs }: WebhookRouteDeps,
): void {
  app.post('/webhooks/quickbooks', async (c) => {
    metrics.received();
    const body = await rawBody(c, maxBodyBytes);
    if (!body.ok) {
      if (body.reason === 'aborted') return c.body(null, 400);
      metrics.rejected('too_large');
      // The unread rest of an oversize body goes with the connection.
      c.header('connection', 'close');
      throw problem(413, 'payload_too_large', 'Payload too large');
    }
    let timer: NodeJS.Timeout | undefined;
    let outcome: Awaited<ReturnType<HandleDelivery>>;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded()), deadlineMs);
      });
      const expiresAt = Date.now() + deadlineMs;
      outcome = await Promise.race([
        handle(body.bytes, c.req.header('intuit-signature'), expiresAt),
        deadline,
      ]);
    } catch (err) {
      metrics.rejected('kafka_unavailable');
      log.warn(
        { err: err instanceof DeadlineExceeded ? undefined : err, deadlineMs },
        'webhook not acknowledged; answering 503 so Intuit retries',
      );
      throw problem(503, 'unavailable', 'Try again later');
    } finally {
      clearTimeout(timer);
    }
    if (outcome.status === 401) throw problem(401, 'invalid_signature', 'Invalid signature');
    if (outcome.status !== 200) throw problem(400, 'unparsable', 'Unparsable notification');
    return c.json({ routed: outcome.routed, parked: outcome.parked, duplicates: outcome.duplicates });
  });
}

/** From Node's request when served by @hono/node-server; from the web Request otherwise (same limit). */
async function rawBody(c: Context, maxBytes: number): Promise<RawBody> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return readRawBody(incoming, maxBytes);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  return bytes.length > maxBytes ? { ok: false, reason: 'too_large' } : { ok: true, bytes };
}
