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
  /** A body not complete this long after the headers is refused with 408 and its connection closed. */
  bodyTimeoutMs: number;
  /** Intuit waits 3 s; past this the answer is 503, so it retries rather than times out. */
  deadlineMs: number;
}

const problem = (status: 400 | 401 | 408 | 413 | 503, code: string, title: string) =>
  new AppError(code, title, { status });

class DeadlineExceeded extends Error {}

export function postWebhook(
  app: Hono,
  { handle, metrics, log, maxBodyBytes, bodyTimeoutMs, deadlineMs }: WebhookRouteDeps,
): void {
  app.post('/webhooks/quickbooks', async (c) => {
    metrics.received();
    const body = await rawBody(c, maxBodyBytes, bodyTimeoutMs);
    if (!body.ok) {
      if (body.reason === 'aborted') return c.body(null, 400);
      // The unread rest of the body goes with the connection.
      c.header('connection', 'close');
      if (body.reason === 'too_slow') {
        metrics.rejected('slow_upload');
        log.warn({ bodyTimeoutMs }, 'webhook body not received in time; connection closed');
        throw problem(408, 'request_timeout', 'Request body not received in time');
      }
      metrics.rejected('too_large');
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
    // Kept for inspection: Intuit may stop sending it.
    if (outcome.status === 413)
      throw problem(413, 'too_large_to_publish', 'Notification too large to publish; kept for inspection');
    if (outcome.status !== 200) throw problem(400, 'unparsable', 'Unparsable notification');
    const { status: _, ...counts } = outcome;
    return c.json(counts);
  });
}

/** From Node's request when served by @hono/node-server; from the web Request otherwise (same limit). */
async function rawBody(c: Context, maxBytes: number, timeoutMs: number): Promise<RawBody> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return readRawBody(incoming, maxBytes, timeoutMs);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  return bytes.length > maxBytes ? { ok: false, reason: 'too_large' } : { ok: true, bytes };
}
