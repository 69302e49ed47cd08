import { createHash } from 'node:crypto';
import type { ChangeEvent, ChangeOperation } from '../domain/company.js';
import { formatCloudEventTime, formatLegacyWebhookTime } from '../qbo-time.js';
import { newUuid } from '../random.js';

export type WebhookFormat = 'legacy' | 'cloudevents';

/** Legacy payload (qbo-api-facts §7.3): one realm per notification, entities in change order. */
export function legacyPayload(realmId: string, events: readonly ChangeEvent[]): string {
  return JSON.stringify({
    eventNotifications: [
      {
        realmId,
        dataChangeEvent: {
          entities: events.map((e) => ({
            name: e.entity,
            id: e.id,
            operation: e.operation,
            lastUpdated: formatLegacyWebhookTime(e.updatedMs),
            ...(e.deletedId ? { deletedId: e.deletedId } : {}),
          })),
        },
      },
    ],
  });
}

const VERBS: Record<ChangeOperation, string> = {
  Create: 'created',
  Update: 'updated',
  Delete: 'deleted',
  Merge: 'merged',
  Void: 'voided',
  Emailed: 'emailed',
};

/** `data` as Intuit's data-objects page shows it: the merged-away id in lower-case `deletedid` on a merge, none on an update. */
function dataOf(e: ChangeEvent): { data?: Record<string, string> } {
  if (e.deletedId) return { data: { deletedid: e.deletedId } };
  return e.operation === 'Update' ? {} : { data: {} };
}

/**
 * CloudEvents payload (qbo-api-facts §7.4): a JSON array, one event per change, realms may mix. A merge
 * names the survivor in `intuitentityid` and the merged-away id in `data.deletedid`; an update event
 * carries no `data` key at all.
 */
export function cloudEventsPayload(events: readonly ChangeEvent[], appSource: string): string {
  return JSON.stringify(
    events.map((e) => ({
      specversion: '1.0',
      id: newUuid(),
      source: appSource,
      type: `qbo.${e.entity.toLowerCase()}.${VERBS[e.operation]}.v1`,
      datacontenttype: 'application/json',
      time: formatCloudEventTime(e.updatedMs),
      intuitentityid: e.id,
      intuitaccountid: e.realmId,
      ...dataOf(e),
    })),
  );
}

/** `intuit.<opaque>=`, stable per app, like the `source` of Intuit's sample. */
export const cloudEventSource = (clientId: string) =>
  `intuit.${createHash('sha256').update(clientId).digest('base64')}`;
