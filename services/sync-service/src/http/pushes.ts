import { AppError, type MikroORM } from '@qbo/service-kit';
import type { OrgVerifier } from '@qbo/service-kit/org-auth';
import type { Hono } from 'hono';
import { z } from 'zod';
import { isUuid, readInput } from '../domain/api-input.js';
import { getPush, listPushes, type PushRecord } from '../store/push-commands.js';
import { scopeOf } from './principal.js';

export interface PushRoutesDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
}

const listPushesQuery = z.object({
  connectionId: z.uuid().optional(),
  status: z.enum(['pending', 'pushed', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const pushNotFound = () => new AppError('push_not_found', 'No such push command', { status: 404 });

/** A command as the API shows it: what was asked, where it stands, and the outcome event's data once done. */
const pushView = (p: PushRecord) => ({
  commandId: p.command_id,
  orgId: p.org_id,
  realmId: p.realm_id,
  connectionId: p.connection_id,
  kind: p.kind,
  entity: p.entity,
  entityId: p.entity_id,
  status: p.status,
  applied: p.applied,
  code: p.code,
  result: p.result,
  receivedAt: new Date(p.received_at).toISOString(),
  doneAt: p.done_at ? new Date(p.done_at).toISOString() : null,
});

/** The write-back commands of the caller's companies (every company's for an operator), newest first. */
export function pushRoutes(app: Hono, d: PushRoutesDeps): void {
  const em = () => d.orm.em.fork();

  app.get('/pushes', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const q = readInput(listPushesQuery, c.req.query());
    const rows = await listPushes(em(), {
      scope,
      connectionId: q.connectionId,
      status: q.status,
      limit: q.limit,
    });
    return c.json({ pushes: rows.map(pushView) });
  });

  app.get('/pushes/:commandId', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    const id = c.req.param('commandId');
    const row = isUuid(id) ? await getPush(em(), scope, id) : undefined;
    if (!row) throw pushNotFound();
    return c.json(pushView(row));
  });
}
