import { UNKNOWN_ORG } from '../../fields.js';
import { at, connectionId, orgId, realmId, type SampleInputs } from './shared.js';

/** Samples of auth-service's connection events (`qbo.connections.v1`). */
export const connectionSamples = {
  ConnectionEstablished: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      connectedAt: at,
    },
  },
  ConnectionReauthorized: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      environment: 'sandbox',
      scopes: ['com.intuit.quickbooks.accounting'],
      reauthorizedAt: at,
      previousStatus: 'deactivated',
    },
  },
  ConnectionDisconnected: {
    orgId,
    realmId,
    data: { connectionId, realmId, reason: 'user_requested', revokedAtIntuit: true, disconnectedAt: at },
  },
  ConnectAttemptRejected: {
    orgId: UNKNOWN_ORG,
    data: { stage: 'callback', reason: 'state_unknown', rejectedAt: at },
  },
} satisfies Partial<SampleInputs>;
