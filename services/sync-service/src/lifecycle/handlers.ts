import type { EventHandler, EventHandlers } from '@qbo/event-bus';
import type { CatalogEvent } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import { requestErasure } from '../store/erasures.js';
import type { ConnectionFact } from '../store/projection.js';
import { scheduleGracePurge } from '../store/purge.js';
import type { Em } from '../store/sql.js';

type Of<T extends CatalogEvent['type']> = Extract<CatalogEvent, { type: T }>;

export interface LifecycleHandlerDeps {
  once: <E extends CatalogEvent>(fn: (event: E, em: Em) => Promise<void>) => EventHandler<E>;
  log: Logger;
}

/**
 * The erasure commands on `qbo.commands.v1`: recorded with their inbox row under the command's id (a
 * redelivery is the same erasure), the companies stopped, and their purges left to the lifecycle job.
 */
export function lifecycleHandlers({ once, log }: LifecycleHandlerDeps): EventHandlers {
  return {
    EraseConnectionData: once<Of<'EraseConnectionData'>>(async (e, em) => {
      const done = await requestErasure(em, {
        erasureId: e.id,
        orgId: e.orgId,
        connectionId: e.data.connectionId,
        requestedBy: e.data.requestedBy,
        via: 'command',
        reason: e.data.reason,
      });
      if (!done)
        log.warn({ orgId: e.orgId, commandId: e.id }, 'erasure of no connection of the org; ignored');
      else log.info({ orgId: e.orgId, erasureId: done.erasureId }, 'erasure of a connection recorded');
    }),
    EraseOrgData: once<Of<'EraseOrgData'>>(async (e, em) => {
      const done = await requestErasure(em, {
        erasureId: e.id,
        orgId: e.orgId,
        requestedBy: e.data.requestedBy,
        via: 'command',
        reason: e.data.reason,
      });
      log.info({ orgId: e.orgId, erasureId: done?.erasureId }, 'erasure of an org recorded');
    }),
  };
}

/** What a disconnect adds to the projection's stop: the company's purge, due when the grace period ends. */
export const purgeAfterGrace =
  (graceMs: number) =>
  (em: Em, fact: ConnectionFact): Promise<void> =>
    scheduleGracePurge(em, fact, graceMs);
