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

/** `since` (ISO-8601): only changes received from then on are replayed; older ones were not this org's. */
export type ReplayParked = (realmId: string, orgId: string, since: string) => Promise<number>;

/**
 * Publishes a realm's parked changes received since `since` to its org, oldest first, then marks them
 * replayed. A crash between the two publishes them again on the next replay: at least once, like every other
 * path to the topic.
 */
export function createReplayParked({ parked, publish, events, log }: ReplayDeps): ReplayParked {
  return async (realmId, orgId, since) => {
    const pending = await parked.pending(realmId, since);
    if (pending.length === 0) return 0;
    await publish(pending.map((p) => changeNotified(events, orgId, p.change, p.receivedAt)));
    await parked.markReplayed(pending.map((p) => p.id));
    log.info({ realmId, orgId, count: pending.length }, 'parked changes replayed');
    return pending.length;
  };
}
