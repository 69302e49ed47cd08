import { type EventHandlers, exactlyOnce, type Inbox } from '@qbo/event-bus';
import type { Logger, MikroORM } from '@qbo/service-kit';
import type { TokenManager } from '../refresh/token-manager.js';

/** An org's disconnect shreds its credentials, once per event (inbox, same transaction). */
export const disconnectHandlers =
  ({ orm, tokens, log }: { orm: MikroORM; tokens: TokenManager; log: Logger }) =>
  (inbox: Inbox): EventHandlers => ({
    ConnectionDisconnected: exactlyOnce(orm, inbox, async (event, { em }) => {
      const shredded = await tokens.shred(
        em,
        event.data.connectionId,
        event.orgId,
        event.data.revokedAtIntuit,
      );
      if (shredded) log.info({ connectionId: event.data.connectionId }, 'credentials shredded');
    }),
  });
