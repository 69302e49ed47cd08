import { at, connectionId, orgId, realmId, type SampleInputs } from './shared.js';

/** Samples of token-service's events (`qbo.tokens.v1`). */
export const tokenSamples = {
  TokenRotated: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      credentialVersion: 7,
      accessTokenExpiresAt: '2026-11-25T11:00:00.000Z',
      refreshTokenExpiresAt: '2027-03-05T10:00:00.000Z',
      refreshTokenRotated: true,
      rotatedAt: at,
    },
  },
  ConnectionDegraded: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      cause: 'intuit_unavailable',
      attempts: 3,
      lastErrorCode: '503',
      degradedSince: at,
    },
  },
  ConnectionRecovered: {
    orgId,
    realmId,
    data: { connectionId, realmId, degradedSince: at, attempts: 5, recoveredAt: '2026-11-25T10:30:00.000Z' },
  },
  ConnectionDeactivated: {
    orgId,
    realmId,
    data: {
      connectionId,
      realmId,
      reason: 'invalid_grant',
      attempts: 2,
      lastErrorCode: 'invalid_grant',
      deactivatedAt: at,
    },
  },
  ReauthorizationRequired: {
    orgId,
    realmId,
    data: { connectionId, realmId, reason: 'invalid_grant', requiredSince: at },
  },
  ReconnectSoon: {
    orgId,
    realmId,
    data: { connectionId, realmId, refreshTokenExpiresAt: '2026-12-05T10:00:00.000Z', daysLeft: 10 },
  },
  AppCredentialsRejected: {
    orgId,
    data: { connectionId, errorCode: 'invalid_client', schedulerPaused: true, detectedAt: at },
  },
} satisfies Partial<SampleInputs>;
