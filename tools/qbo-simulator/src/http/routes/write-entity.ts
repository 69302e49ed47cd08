import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { write } from '../../domain/operations.js';
import type { ApiEnv } from '../env.js';
import { idempotent } from '../request-id.js';
import { readJsonBody, withTime } from '../respond.js';
import { entityForPath } from './entity-path.js';

/** `POST …/{entity}`: create, update (full or sparse), `?operation=delete|void|update&include=void`. */
export function writeEntityRoute(app: Hono<ApiEnv>, core: Core): void {
  app.post('/v3/company/:realmId/:entity', async (c, next) => {
    const def = entityForPath(core, c.req.param('entity'));
    if (!def) return next();
    return idempotent(c, core, 50, async () => {
      const body = await readJsonBody(c);
      const now = core.clock.now();
      const result = write(
        c.get('company'),
        def,
        c.req.query('operation'),
        c.req.query('include'),
        body,
        now,
      );
      core.realms.publish(result.events);
      return { status: 200, body: withTime(result.entity, JSON.stringify(result.body), now) };
    });
  });
}
