import { UNKNOWN_ORG } from '../../fields.js';
import { at, orgId, realmId, type SampleInputs } from './shared.js';

/** Samples of webhook-ingest's events (`qbo.webhooks.v1`, parked ones on `qbo.webhooks.parked.v1`). */
export const webhookSamples = {
  EntityChangeNotified: {
    orgId,
    realmId,
    data: {
      notificationId: 'b2f0c4e8-cloud-event-1',
      format: 'cloudevents',
      realmId,
      entity: 'Customer',
      entityId: '58',
      operation: 'Update',
      lastUpdated: '2026-11-25T02:00:00.000-08:00',
      receivedAt: at,
    },
  },
  WebhookParked: {
    orgId: UNKNOWN_ORG,
    realmId: '1234567890',
    data: {
      reason: 'unknown_realm',
      format: 'legacy',
      realmId: '1234567890',
      body: '{"realmId":"1234567890","dataChangeEvent":{"entities":[]}}',
      receivedAt: at,
    },
  },
} satisfies Partial<SampleInputs>;
