import type { EventHandlers } from '@qbo/event-bus';
import type { Logger } from '@qbo/service-kit';
import type { ReplayParked } from '../ingest/replay-parked.js';
import type { RealmOrgs } from '../store/realm-orgs.js';

/** The one writer of connection facts: an event from any other source does not move webhooks. */
export const CONNECTIONS_SOURCE = 'auth-service';

interface ConnectionFact {
  id: string;
  type: string;
  source: string;
  orgId: string;
  realmId?: string | undefined;
  data: { realmId: string; connectionId: string };
}

/**
 * The realm → org projection. A connection event re-points a realm's webhooks only when auth-service wrote it,
 * its envelope and data name the same realm, and it is not older than the event the store reflects (the
 * connections topic is keyed by org, so two orgs' events for one realm have no order on it, least of all in a
 * rebuild). Linking a realm also replays the changes parked for it no earlier than `parkWindowMs` before the
 * connection. Redelivered events are harmless.
 */
export function connectionHandlers({
  realms,
  replay,
  log,
  parkWindowMs,
}: {
  realms: RealmOrgs;
  replay: ReplayParked;
  log: Logger;
  parkWindowMs: number;
}): EventHandlers {
  const trusted = (e: ConnectionFact): boolean => {
    const problem =
      e.source !== CONNECTIONS_SOURCE
        ? 'not written by auth-service'
        : e.realmId !== undefined && e.realmId !== e.data.realmId
          ? 'envelope and data name different realms'
          : undefined;
    if (problem)
      log.warn(
        { eventId: e.id, type: e.type, source: e.source, orgId: e.orgId, realmId: e.data.realmId, problem },
        'connection event ignored: it may not move a realm’s webhooks',
      );
    return problem === undefined;
  };
  const link = async (e: ConnectionFact, at: string) => {
    if (!trusted(e)) return;
    const { realmId, connectionId } = e.data;
    if (!(await realms.link({ realmId, orgId: e.orgId, connectionId, at }))) {
      log.info(
        { eventId: e.id, type: e.type, orgId: e.orgId, realmId, at },
        'connection event older than the realm’s current link; ignored',
      );
      return;
    }
    await replay(realmId, e.orgId, new Date(Date.parse(at) - parkWindowMs).toISOString());
  };
  return {
    ConnectionEstablished: (e) => link(e, e.data.connectedAt),
    ConnectionReauthorized: (e) => link(e, e.data.reauthorizedAt),
    ConnectionDisconnected: async (e) => {
      if (trusted(e)) await realms.unlink(e.data.realmId, e.data.connectionId, e.data.disconnectedAt);
    },
  };
}
