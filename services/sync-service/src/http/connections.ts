import { AppError, type Logger, type MikroORM } from '@qbo/service-kit';
import type { OrgVerifier } from '@qbo/service-kit/org-auth';
import type { Context, Hono } from 'hono';
import { invalidRequest, isUuid, readInput, scheduleBody, syncRequestBody } from '../domain/api-input.js';
import {
  type ControlRecord,
  getControl,
  listControls,
  pause,
  resume,
  setSyncInterval,
} from '../store/controls.js';
import { askSync } from '../store/sync-requests.js';
import { scopeOf } from './principal.js';

export interface ConnectionRoutesDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
  log: Logger;
  /** The service's interval between deltas (`SYNC_INTERVAL_MS`), for companies without their own. */
  defaultIntervalMs: number;
  /** The shortest interval a company may ask for (`SYNC_MIN_INTERVAL_MS`). */
  minIntervalMs: number;
  maxIntervalMs: number;
}

const connectionNotFound = () => new AppError('connection_not_found', 'No such connection', { status: 404 });

/** The sync of each of the caller's companies (every company's for an operator): state and controls. */
export function connectionRoutes(app: Hono, d: ConnectionRoutesDeps): void {
  const view = (t: ControlRecord) => ({
    connectionId: t.connection_id,
    orgId: t.org_id,
    realmId: t.realm_id,
    status: t.status,
    entities: t.entities,
    paused: t.paused_at !== null,
    pausedAt: t.paused_at === null ? null : new Date(t.paused_at).toISOString(),
    intervalMs: t.interval_ms === null ? d.defaultIntervalMs : Number(t.interval_ms),
    intervalIsDefault: t.interval_ms === null,
    initialLoadPending: t.needs_load,
    lastSyncedAt: t.last_synced_at === null ? null : new Date(t.last_synced_at).toISOString(),
    nextSyncAt: nextSync(t),
  });

  /** The caller's company behind the path's connection id; an unknown or foreign one is the same 404. */
  const target = async (c: Context) => {
    const scope = await scopeOf(c, d.verifier);
    const id = c.req.param('connectionId') ?? '';
    const found = isUuid(id) ? await getControl(d.orm.em.fork(), scope, id) : undefined;
    if (!found) throw connectionNotFound();
    return found;
  };
  const key = (t: ControlRecord) => ({ orgId: t.org_id, realmId: t.realm_id });
  const reread = async (t: ControlRecord) => {
    const fresh = await getControl(d.orm.em.fork(), t.org_id, t.connection_id);
    if (!fresh) throw connectionNotFound();
    return view(fresh);
  };

  app.get('/connections', async (c) => {
    const scope = await scopeOf(c, d.verifier);
    return c.json({ connections: (await listControls(d.orm.em.fork(), scope)).map(view) });
  });

  app.get('/connections/:connectionId', async (c) => c.json(view(await target(c))));

  app.post('/connections/:connectionId/sync', async (c) => {
    const t = await target(c);
    const body = readInput(syncRequestBody, await jsonBody(c));
    const asked = await d.orm.em
      .fork()
      .transactional((em) =>
        askSync(em, t, { mode: body.mode, entities: body.entity === undefined ? undefined : [body.entity] }),
      );
    if (asked.outcome === 'unknown_entity' || asked.outcome === 'invalid') {
      throw invalidRequest(
        'entity',
        `must be one of the entities this company syncs: ${t.entities.join(', ')}`,
      );
    }
    if (asked.outcome === 'paused') {
      throw new AppError('connection_paused', 'The connection is paused; resume it first', { status: 409 });
    }
    if (asked.outcome === 'inactive') {
      throw new AppError('connection_inactive', 'The connection is not active; the company must reconnect', {
        status: 409,
      });
    }
    d.log.info({ orgId: t.org_id, realmId: t.realm_id, mode: body.mode }, 'sync requested through the API');
    return c.json(
      { connectionId: t.connection_id, mode: body.mode, entity: body.entity ?? null, accepted: true },
      202,
    );
  });

  app.post('/connections/:connectionId/pause', async (c) => {
    const t = await target(c);
    await d.orm.em.fork().transactional((em) => pause(em, key(t)));
    d.log.info({ orgId: t.org_id, realmId: t.realm_id }, 'sync paused');
    return c.json(await reread(t));
  });

  app.post('/connections/:connectionId/resume', async (c) => {
    const t = await target(c);
    await d.orm.em.fork().transactional((em) => resume(em, key(t)));
    d.log.info({ orgId: t.org_id, realmId: t.realm_id }, 'sync resumed');
    return c.json(await reread(t));
  });

  app.put('/connections/:connectionId/schedule', async (c) => {
    const t = await target(c);
    const body = readInput(scheduleBody(d.minIntervalMs, d.maxIntervalMs), await jsonBody(c));
    await d.orm.em
      .fork()
      .transactional((em) => setSyncInterval(em, key(t), body.intervalMs, d.defaultIntervalMs));
    return c.json(await reread(t));
  });
}

function nextSync(t: ControlRecord): string | null {
  if (t.paused_at !== null || t.status !== 'active') return null;
  const times = [t.schedule_at, t.wanted_at].filter((v): v is Date => v !== null).map((v) => new Date(v));
  if (times.length === 0) return null;
  return new Date(Math.min(...times.map((v) => v.getTime()))).toISOString();
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw invalidRequest('body', 'must be a JSON object');
  }
}
