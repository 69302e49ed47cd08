import type { Outbox } from '@qbo/event-bus';
import { ConnectionDisconnected, type EventFactory } from '@qbo/events';
import { AppError, errorCode, type Logger, type MikroORM } from '@qbo/service-kit';
import { type OrgVerifier, unauthenticated } from '@qbo/service-kit/org-auth';
import type { TokenServiceClient } from '@qbo/token-api';
import type { Context, Hono } from 'hono';
import type { Connection, Connections } from '../store/connections.js';

export interface ConnectionsDeps {
  orm: MikroORM;
  log: Logger;
  connections: Connections;
  tokens: TokenServiceClient;
  outbox: Outbox;
  events: EventFactory;
  verifier: OrgVerifier;
  publicUrl: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function connectionsRoutes(app: Hono, d: ConnectionsDeps): void {
  const view = (c: Connection) => ({
    id: c.id,
    realmId: c.realmId,
    environment: c.environment,
    status: c.status,
    scopes: c.scopes,
    connectedAt: c.connectedAt.toISOString(),
    connectedBy: c.connectedBy,
    lastSyncAt: c.lastSyncAt?.toISOString() ?? null,
    deactivationReason: c.deactivationReason,
    disconnectedAt: c.disconnectedAt?.toISOString() ?? null,
    // Initiating needs the org credential, so the link is the initiate endpoint the frontend POSTs to.
    reconnectUrl: c.status === 'active' ? null : `${d.publicUrl}/connect/quickbooks`,
  });

  const orgOf = async (c: Context) => (await d.verifier.verify(c.req.header('authorization')))?.orgId;
  const notFound = () => new AppError('connection_not_found', 'No such connection', { status: 404 });

  app.get('/connections', async (c) => {
    const orgId = await orgOf(c);
    if (!orgId) throw unauthenticated();
    return c.json({ connections: (await d.connections.list(orgId)).map(view) });
  });

  app.get('/connections/:id', async (c) => {
    const orgId = await orgOf(c);
    if (!orgId) throw unauthenticated();
    const id = c.req.param('id');
    const found = UUID.test(id) ? await d.connections.get(orgId, id) : undefined;
    if (!found) throw notFound();
    return c.json(view(found));
  });

  /**
   * Revoke at Intuit (through the token-service, which alone holds the refresh token), then record the
   * disconnect and announce it. Repeating it answers the same state and announces nothing new.
   */
  app.delete('/connections/:id', async (c) => {
    const orgId = await orgOf(c);
    if (!orgId) throw unauthenticated();
    const id = c.req.param('id');
    const found = UUID.test(id) ? await d.connections.get(orgId, id) : undefined;
    if (!found) throw notFound();
    if (found.status === 'disconnected') return c.json(view(found));

    let revokedAtIntuit = false;
    try {
      revokedAtIntuit = (await d.tokens.revoke(id)).revokedAtIntuit;
    } catch (err) {
      // The disconnect goes ahead: the token-service shreds the credentials when the event reaches it.
      d.log.warn(
        { connectionId: id, errorCode: errorCode(err) ?? 'unexpected' },
        'revoke through the token-service failed; disconnecting anyway',
      );
    }
    const at = new Date();
    await d.orm.em.fork().transactional(async (em) => {
      const current = await d.connections.getById(em, id, true);
      if (!current || current.status === 'disconnected') return;
      await d.connections.markDisconnected(em, id, at, revokedAtIntuit);
      await d.outbox.add(
        em,
        d.events(ConnectionDisconnected, {
          orgId,
          realmId: current.realmId,
          data: {
            connectionId: id,
            realmId: current.realmId,
            reason: 'user_requested',
            revokedAtIntuit,
            disconnectedAt: at.toISOString(),
          },
        }),
      );
    });
    d.log.info({ orgId, connectionId: id, revokedAtIntuit }, 'connection disconnected');
    const after = await d.connections.get(orgId, id);
    if (!after) throw notFound();
    return c.json(view(after));
  });
}
