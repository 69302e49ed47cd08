import { type EventHandlers, exactlyOnce, type Inbox } from '@qbo/event-bus';
import type { Logger, MikroORM } from '@qbo/service-kit';
import type { TokenManager } from '../refresh/token-manager.js';

/**
 * An org's disconnect shreds its credentials, once per event (inbox, same transaction), when the event agrees
 * with the stored connection's org and realm (see `shred` in `refresh/revocation.ts`).
 */
export const disconnectHandlers =
  ({ orm, tokens, log }: { orm: MikroORM; tokens: TokenManager; log: Logger }) =>
  (inbox: Inbox): EventHandlers => ({
    ConnectionDisconnected: exactlyOnce(orm, inbox, async (event, { em }) => {
      const result = await tokens.shred(em, {
        connectionId: event.data.connectionId,
        orgId: event.orgId,
        realmIds: [event.realmId, event.data.realmId],
        revokedAtIntuit: event.data.revokedAtIntuit,
        eventId: event.id,
      });
      if (result === 'shredded') log.info({ connectionId: event.data.connectionId }, 'credentials shredded');
    }),
  });
