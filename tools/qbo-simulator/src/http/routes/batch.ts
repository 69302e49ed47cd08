import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { batch } from '../../domain/operations.js';
import type { ApiEnv } from '../env.js';
import { idempotent } from '../request-id.js';
import { readJsonBody, withTime } from '../respond.js';

/** `POST …/batch`: up to 30 items, answered 200 with one response per item. */
export function batchRoute(app: Hono<ApiEnv>, core: Core): void {
  app.post('/v3/company/:realmId/batch', (c) =>
    idempotent(c, core, 36, async () => {
      const body = await readJsonBody(c);
      const now = core.clock.now();
      const result = batch(c.get('company'), body, now);
      core.realms.publish(result.events);
      return { status: 200, body: withTime('BatchItemResponse', result.json, now) };
    }),
  );
}
