import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { batch } from '../../domain/batch.js';
import type { ApiEnv } from '../env.js';
import { idempotent } from '../request-id.js';
import { readJsonBody, withTime } from '../respond.js';

/** `POST …/batch`: up to 30 items, answered 200 with one response per item. */
export function batchRoute(app: Hono<ApiEnv>, core: Core): void {
  app.post('/v3/company/:realmId/batch', (c) =>
    idempotent(c, core, 36, async () => {
      const body = await readJsonBody(c);
      const now = core.clock.now();
      const company = c.get('company');
      const result = batch(company, body, {
        now,
        poison: core.faults.poison(company.realmId),
        overflow: core.policies.batchOverflow,
        withRequestId: c.req.query('requestid') !== undefined,
      });
      core.realms.publish(result.events);
      return { status: 200, body: withTime('BatchItemResponse', result.json, now) };
    }),
  );
}
