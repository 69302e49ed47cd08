import { randomUUID } from 'node:crypto';
import { AppError, type Logger, type MikroORM, query } from '@qbo/service-kit';
import { type OrgPrincipal, type OrgVerifier, unauthenticated } from '@qbo/service-kit/org-auth';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { invalidRequest, isUuid, readInput } from '../domain/api-input.js';
import { type ErasureRecord, readErasure, requestErasure } from '../store/erasures.js';
import type { Em } from '../store/sql.js';

export interface ErasureRoutesDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
  log: Logger;
}

const erasureBody = z.strictObject({ reason: z.string().max(200).optional() });
/** The org ids a credential may name (`@qbo/service-kit/org-auth`). */
const ORG_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

const notFound = (what: 'connection' | 'erasure') =>
  new AppError(`${what}_not_found`, `No such ${what}`, { status: 404 });

/**
 * Erasure on request. An org may erase one of its own companies' data; an operator any company's, or a whole
 * org's (`POST /orgs/:orgId/erasure`, operators only). Each answers 202 with the erasure's audit row, which
 * `GET /erasures/:erasureId` shows until it completes: the sync of the companies stops at once, and the purge
 * runs as soon as no sync holds the org's lease.
 */
export function erasureRoutes(app: Hono, d: ErasureRoutesDeps): void {
  const principal = async (c: Context): Promise<OrgPrincipal> => {
    const p = await d.verifier.verify(c.req.header('authorization'));
    if (!p) throw unauthenticated();
    return p;
  };
  const who = (p: OrgPrincipal) => `${p.operator ? 'operator' : 'org'}:${p.userId ?? p.orgId}`;
  const reasonOf = async (c: Context) => {
    const text = await c.req.text();
    if (text.trim() === '') return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalidRequest('body', 'must be a JSON object');
    }
    return readInput(erasureBody, json).reason;
  };
  const answer = async (c: Context, erasureId: string, created: boolean) => {
    const row = await readErasure(d.orm.em.fork() as unknown as Em, erasureId, null);
    if (!row) throw notFound('erasure');
    return c.json(view(row), created ? 202 : 200);
  };

  app.post('/connections/:connectionId/erasure', async (c) => {
    const p = await principal(c);
    const connectionId = c.req.param('connectionId') ?? '';
    const reason = await reasonOf(c);
    if (!isUuid(connectionId)) throw notFound('connection');
    const done = await d.orm.em.fork().transactional(async (em) => {
      const owner = await ownerOf(em as unknown as Em, connectionId, p.operator ? null : p.orgId);
      if (owner === undefined) return undefined;
      return requestErasure(em as unknown as Em, {
        erasureId: randomUUID(),
        orgId: owner,
        connectionId,
        requestedBy: who(p),
        via: 'api',
        reason,
      });
    });
    if (!done) throw notFound('connection');
    d.log.info({ erasureId: done.erasureId, created: done.created }, 'erasure of a connection asked');
    return answer(c, done.erasureId, done.created);
  });

  app.post('/orgs/:orgId/erasure', async (c) => {
    const p = await principal(c);
    if (!p.operator) {
      throw new AppError('operator_required', 'Only an operator may erase an org', { status: 403 });
    }
    const orgId = c.req.param('orgId') ?? '';
    if (!ORG_ID.test(orgId)) throw invalidRequest('orgId', 'not an org id');
    const reason = await reasonOf(c);
    const done = await d.orm.em.fork().transactional((em) =>
      requestErasure(em as unknown as Em, {
        erasureId: randomUUID(),
        orgId,
        requestedBy: who(p),
        via: 'api',
        reason,
      }),
    );
    if (!done) throw notFound('erasure');
    d.log.info({ erasureId: done.erasureId, created: done.created }, 'erasure of an org asked');
    return answer(c, done.erasureId, done.created);
  });

  app.get('/erasures/:erasureId', async (c) => {
    const p = await principal(c);
    const id = c.req.param('erasureId') ?? '';
    const row = isUuid(id)
      ? await readErasure(d.orm.em.fork() as unknown as Em, id, p.operator ? null : p.orgId)
      : undefined;
    if (!row) throw notFound('erasure');
    return c.json(view(row));
  });
}

async function ownerOf(em: Em, connectionId: string, scope: string | null): Promise<string | undefined> {
  const rows = await query<{ org_id: string }>(
    em,
    'select org_id from sync_target where connection_id = $1::uuid and ($2::text is null or org_id = $2)',
    [connectionId, scope],
  );
  return rows[0]?.org_id;
}

function view(e: ErasureRecord) {
  return {
    erasureId: e.erasure_id,
    orgId: e.org_id,
    connectionId: e.connection_id,
    requestedBy: e.requested_by,
    requestedVia: e.requested_via,
    reason: e.reason,
    requestedAt: new Date(e.requested_at).toISOString(),
    status: e.status,
    completedAt: e.completed_at === null ? null : new Date(e.completed_at).toISOString(),
    counts: e.counts,
    companiesPending: e.purges_pending,
    waitingForSync: e.status === 'pending' && e.sync_running,
  };
}
