import type { EventFactory } from '@qbo/events';
import { EntityChangeNotified, UNKNOWN_ORG, WebhookParked } from '@qbo/events';
import type { EntityChange } from '../domain/notification.js';

export function changeNotified(
  events: EventFactory,
  orgId: string,
  change: EntityChange,
  receivedAt: string,
) {
  return events(EntityChangeNotified, {
    orgId,
    realmId: change.realmId,
    data: {
      notificationId: change.eventId,
      format: change.format,
      realmId: change.realmId,
      entity: change.entity,
      entityId: change.entityId,
      operation: change.operation,
      lastUpdated: change.occurredAt,
      ...(change.deletedId ? { deletedId: change.deletedId } : {}),
      receivedAt,
    },
  });
}

export function changeParked(events: EventFactory, change: EntityChange, receivedAt: string) {
  return events(WebhookParked, {
    orgId: UNKNOWN_ORG,
    realmId: change.realmId,
    data: {
      reason: 'unknown_realm',
      format: change.format,
      realmId: change.realmId,
      notificationId: change.eventId,
      body: JSON.stringify(change),
      receivedAt,
    },
  });
}

export function bodyParked(events: EventFactory, body: string, receivedAt: string) {
  return events(WebhookParked, {
    orgId: UNKNOWN_ORG,
    data: { reason: 'unparsable', body: body.slice(0, 262_144), receivedAt },
  });
}
