import type { EventHandlers } from '@qbo/event-bus';
import type { ReplayParked } from '../ingest/replay-parked.js';
import type { RealmOrgs } from '../store/realm-orgs.js';

/**
 * The realm → org projection. Linking a realm also replays the changes parked while it was unknown. Upserts
 * are idempotent, so a redelivered connection event is harmless.
 */
export function connectionHandlers({
  realms,
  replay,
}: {
  realms: RealmOrgs;
  replay: ReplayParked;
}): EventHandlers {
  const link = async (e: { orgId: string; data: { realmId: string; connectionId: string } }) => {
    await realms.link({ realmId: e.data.realmId, orgId: e.orgId, connectionId: e.data.connectionId });
    await replay(e.data.realmId, e.orgId);
  };
  return {
    ConnectionEstablished: link,
    ConnectionReauthorized: link,
    ConnectionDisconnected: async (e) => {
      await realms.unlink(e.data.realmId, e.data.connectionId);
    },
  };
}
