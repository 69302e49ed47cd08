import type { Logger } from '@qbo/service-kit';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HandleDelivery } from '../ingest/handle-delivery.js';
import type { WebhookMetrics } from '../metrics.js';

export interface WebhookRouteDeps {
  handle: HandleDelivery;
  metrics: WebhookMetrics;
  log: Logger;
  maxBodyBytes: number;
  /** Intuit waits 3 s; past this the answer is 503, so it retries rather than times out. */
  deadlineMs: number;
}

const problem = (c: Context, status: 400 | 401 | 413 | 503, code: string, title: string) =>
  c.json({ type: 'about:blank', title, status, code }, status, {
    'content-type': 'application/problem+json',
  });

class DeadlineExceeded extends Error {}

export function postWebhook(
  app: Hono,
  { handle, metrics, log, maxBodyBytes, deadlineMs }: WebhookRouteDeps,
): void {
  app.post(
    '/webhooks/quickbooks',
    async (_c, next) => {
      metrics.received();
      await next();
    },
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => {
        metrics.rejected('too_large');
        return problem(c, 413, 'payload_too_large', 'Payload too large');
      },
    }),
    async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const raw = new Uint8Array(await c.req.arrayBuffer());
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DeadlineExceeded()), deadlineMs);
        });
        const expiresAt = Date.now() + deadlineMs;
        const outcome = await Promise.race([
          handle(raw, c.req.header('intuit-signature'), expiresAt),
          deadline,
        ]);
        if (outcome.status !== 200) {
          return outcome.status === 401
            ? problem(c, 401, 'invalid_signature', 'Invalid signature')
            : problem(c, 400, 'unparsable', 'Unparsable notification');
        }
        return c.json({ routed: outcome.routed, parked: outcome.parked, duplicates: outcome.duplicates });
      } catch (err) {
        metrics.rejected('kafka_unavailable');
        log.warn(
          { err: err instanceof DeadlineExceeded ? undefined : err, deadlineMs },
          'webhook not acknowledged; answering 503 so Intuit retries',
        );
        return problem(c, 503, 'unavailable', 'Try again later');
      } finally {
        clearTimeout(timer);
      }
    },
  );
}
