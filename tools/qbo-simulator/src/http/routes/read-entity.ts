import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { faults } from '../../domain/fault.js';
import { assertReadable } from '../../domain/poison.js';
import { rowJson } from '../../domain/query/execute.js';
import type { ApiContext, ApiEnv } from '../env.js';
import { sendJson, withTime } from '../respond.js';
import { entityForPath } from './entity-path.js';
import { invoicePdf } from './pdf.js';

/**
 * `GET …/{entity}/{id}`: inactive records too; deleted or unknown ids are Object Not Found; a poisoned
 * record answers its fault.
 */
export function readEntityRoutes(app: Hono<ApiEnv>, core: Core): void {
  const find = (c: ApiContext) => {
    const def = entityForPath(core, c.req.param('entity'));
    if (!def) return undefined;
    const row = c.get('company').find(def.name, c.req.param('id') ?? '');
    if (!row || row.deleted) throw faults.notFound();
    assertReadable([row], core.faults.poison(c.get('company').realmId));
    return row;
  };
  app.get('/v3/company/:realmId/:entity/:id/pdf', (c, next) => {
    const row = find(c);
    if (row?.entity !== 'Invoice') return next();
    return c.body(invoicePdf(row.data), 200, { 'content-type': 'application/pdf' });
  });
  app.get('/v3/company/:realmId/:entity/:id', (c, next) => {
    const row = find(c);
    if (!row) return next();
    return sendJson(c, 200, withTime(row.entity, rowJson(row), core.clock.now()));
  });
}
