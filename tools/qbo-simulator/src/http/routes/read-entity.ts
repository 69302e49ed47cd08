import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { entityDef } from '../../domain/entities/registry.js';
import { faults } from '../../domain/fault.js';
import { rowJson } from '../../domain/query/execute.js';
import type { ApiContext, ApiEnv } from '../env.js';
import { sendJson, withTime } from '../respond.js';
import { invoicePdf } from './pdf.js';

/** `GET …/{entity}/{id}`: inactive records too; deleted or unknown ids are Object Not Found. */
export function readEntityRoutes(app: Hono<ApiEnv>, core: Core): void {
  const find = (c: ApiContext) => {
    const def = entityDef(c.req.param('entity') ?? '');
    if (!def) return undefined;
    const row = c.get('company').find(def.name, c.req.param('id') ?? '');
    if (!row || row.deleted) throw faults.notFound();
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
