import type { EventFactory } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { ParkedChanges } from '../store/parked-changes.js';
import type { Publish } from './publish.js';
import { changeNotified } from './to-events.js';

export interface ReplayDeps {
  parked: ParkedChanges;
  publish: Publish;
  events: EventFactory;
  log: Logger;
}

export type ReplayParked = (realmId: string, orgId: string) => Promise<number>;

/**
 * Publishes a realm's parked changes to its org, oldest first, then marks them replayed. A crash between the
 * two publishes them again on the next replay: at least once, like every other path to the topic.
 */
export function createReplayParked({ parked, publish, events, log }: ReplayDeps): ReplayParked {
  return async (realmId, orgId) => {
    const pending = await parked.pending(realmId);
    if (pending.length === 0) return 0;
    await publish(pending.map((p) => changeNotified(events, orgId, p.change, p.receivedAt)));
    await parked.markReplayed(pending.map((p) => p.id));
    log.info({ realmId, orgId, count: pending.length }, 'parked changes replayed');
    return pending.length;
  };
}
