import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { changeDataCapture } from '../../domain/cdc.js';
import type { ApiEnv } from '../env.js';
import { sendJson, withTime } from '../respond.js';

/** `GET …/cdc?entities=Customer,Invoice&changedSince=…`. */
export function cdcRoute(app: Hono<ApiEnv>, core: Core): void {
  app.get('/v3/company/:realmId/cdc', (c) => {
    const now = core.clock.now();
    const company = c.get('company');
    const json = changeDataCapture(
      company,
      { entities: c.req.query('entities'), changedSince: c.req.query('changedSince') },
      now,
      core.faults.poison(company.realmId),
    );
    return sendJson(c, 200, withTime('CDCResponse', json, now));
  });
}
