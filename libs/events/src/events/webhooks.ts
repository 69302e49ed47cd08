import { z } from 'zod';
import { defineEvent } from '../define-event.js';
import { entityId, entityName, realmId, timestamp } from '../fields.js';
import { topics } from '../topics.js';

const format = z.enum(['legacy', 'cloudevents']);

export const EntityChangeNotified = defineEvent({
  type: 'EntityChangeNotified',
  version: 1,
  topic: topics.webhooks,
  description: 'Intuit notified a change of one entity in a realm of this org (webhook-ingest).',
  data: z.object({
    /** CloudEvents `id`, or a stable hash of a legacy entry: the dedupe key. */
    notificationId: z.string().min(1).max(128),
    format,
    realmId,
    entity: entityName,
    entityId,
    operation: z.enum(['Create', 'Update', 'Delete', 'Merge', 'Void', 'Emailed']),
    /** Intuit's `lastUpdated` for the change. */
    lastUpdated: timestamp,
    /** For a Merge: the id that was merged away. */
    deletedId: entityId.optional(),
    receivedAt: timestamp,
  }),
});

/**
 * A webhook change kept for later: its realm is not (yet) connected to an org, or the body could not be
 * parsed. Written with orgId `_unknown` and keyed by realm, so a realm's parked changes replay in order.
 */
export const WebhookParked = defineEvent({
  type: 'WebhookParked',
  version: 1,
  topic: topics.webhooksParked,
  description:
    'A webhook change of an unknown realm, or an unparsable signed body, kept for replay (webhook-ingest).',
  data: z.object({
    reason: z.enum(['unknown_realm', 'unparsable']),
    format: format.optional(),
    realmId: realmId.optional(),
    notificationId: z.string().min(1).max(128).optional(),
    /** The raw notification (or body, when unparsable) as received, signature already verified. */
    body: z.string().max(262_144),
    receivedAt: timestamp,
  }),
});
