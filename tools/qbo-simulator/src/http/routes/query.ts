import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { executeQuery, queryResponseJson } from '../../domain/query/execute.js';
import type { ApiEnv } from '../env.js';
import { sendJson, withTime } from '../respond.js';

/**
 * `GET …/query?query=<select>` and `POST …/query` with the SELECT as an `application/text` body
 * (python-quickbooks posts it).
 */
export function queryRoutes(app: Hono<ApiEnv>, core: Core): void {
  const answer = (company: ApiEnv['Variables']['company'], text: string) => {
    const now = core.clock.now();
    const json = queryResponseJson(
      executeQuery(company, text, { now, poison: core.faults.poison(company.realmId) }),
    );
    return withTime('QueryResponse', json, now);
  };
  app.get('/v3/company/:realmId/query', (c) =>
    sendJson(c, 200, answer(c.get('company'), c.req.query('query') ?? '')),
  );
  app.post('/v3/company/:realmId/query', async (c) => {
    const text = c.req.query('query') ?? (await c.req.text());
    return sendJson(c, 200, answer(c.get('company'), text));
  });
}
