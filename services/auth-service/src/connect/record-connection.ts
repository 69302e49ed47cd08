import type { Outbox } from '@qbo/event-bus';
import { ConnectionEstablished, ConnectionReauthorized, type EventFactory } from '@qbo/events';
import type { MikroORM } from '@qbo/service-kit';
import type { Connections } from '../store/connections.js';
import type { RecordGrant } from './complete-connection.js';

/** The connection row and its ConnectionEstablished (or ConnectionReauthorized) commit together. */
export function createRecordConnection({
  orm,
  connections,
  outbox,
  events,
}: {
  orm: MikroORM;
  connections: Connections;
  outbox: Outbox;
  events: EventFactory;
}): RecordGrant {
  return (g) =>
    orm.em.fork().transactional(async (em) => {
      const previous = await connections.recordGrant(em, g);
      const common = {
        connectionId: g.id,
        realmId: g.realmId,
        environment: g.environment,
        scopes: [...g.scopes],
        ...(g.connectedBy ? { connectedBy: g.connectedBy } : {}),
      };
      await outbox.add(
        em,
        previous === undefined
          ? events(ConnectionEstablished, {
              orgId: g.orgId,
              realmId: g.realmId,
              data: { ...common, connectedAt: g.at.toISOString() },
            })
          : events(ConnectionReauthorized, {
              orgId: g.orgId,
              realmId: g.realmId,
              data: { ...common, reauthorizedAt: g.at.toISOString(), previousStatus: previous },
            }),
      );
      return previous;
    });
}
