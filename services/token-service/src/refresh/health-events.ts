import {
  AppCredentialsRejected,
  type CatalogEvent,
  ConnectionDeactivated,
  ConnectionDegraded,
  ConnectionRecovered,
  type EventFactory,
  ReauthorizationRequired,
  ReconnectSoon,
  TokenRotated,
} from '@qbo/events';
import type { HealthChange } from '../domain/refresh-health.js';
import { daysLeft } from '../domain/schedule.js';

/** The connection an event is about. */
export interface Subject {
  connectionId: string;
  orgId: string;
  realmId: string;
}

const at = (t: number) => new Date(t).toISOString();

/** The catalog events of a connection's health changes; a tried fallback counts as one more attempt. */
export function healthEvents(
  events: EventFactory,
  s: Subject,
  changes: readonly HealthChange[],
  fallbackTried: boolean,
): CatalogEvent[] {
  const base = { orgId: s.orgId, realmId: s.realmId };
  const ids = { connectionId: s.connectionId, realmId: s.realmId };
  return changes.map((c): CatalogEvent => {
    switch (c.type) {
      case 'ConnectionDegraded':
        return events(ConnectionDegraded, {
          ...base,
          data: {
            ...ids,
            cause: c.cause as 'intuit_unavailable',
            attempts: c.attempts,
            ...(c.lastErrorCode ? { lastErrorCode: c.lastErrorCode } : {}),
            degradedSince: at(c.degradedSince),
            nextAttemptAt: at(c.nextAttemptAt),
          },
        });
      case 'ConnectionRecovered':
        return events(ConnectionRecovered, {
          ...base,
          data: {
            ...ids,
            degradedSince: at(c.degradedSince),
            attempts: c.attempts,
            recoveredAt: at(c.recoveredAt),
          },
        });
      case 'ConnectionDeactivated':
        return events(ConnectionDeactivated, {
          ...base,
          data: {
            ...ids,
            reason: c.reason as 'invalid_grant',
            attempts: c.attempts + (fallbackTried ? 1 : 0),
            ...(c.lastErrorCode ? { lastErrorCode: c.lastErrorCode } : {}),
            deactivatedAt: at(c.deactivatedAt),
          },
        });
      case 'ReauthorizationRequired':
        return events(ReauthorizationRequired, {
          ...base,
          data: { ...ids, reason: c.reason as 'invalid_grant', requiredSince: at(c.requiredSince) },
        });
      case 'AppCredentialsRejected':
        return events(AppCredentialsRejected, {
          ...base,
          data: {
            connectionId: s.connectionId,
            errorCode: c.errorCode as 'invalid_client',
            schedulerPaused: true,
            detectedAt: at(c.detectedAt),
          },
        });
    }
    throw new Error('unreachable');
  });
}

/** TokenRotated for a refresh, and ReconnectSoon when this refresh is the first inside the reconnect lead. */
export function rotationEvents(
  events: EventFactory,
  s: Subject,
  r: {
    version: number;
    accessExpiresAt: number;
    refreshExpiresAt: number;
    hardExpiresAt: number;
    rotated: boolean;
    reconnectSoon: boolean;
    now: number;
  },
): CatalogEvent[] {
  const base = { orgId: s.orgId, realmId: s.realmId };
  const rotatedEvent = events(TokenRotated, {
    ...base,
    data: {
      connectionId: s.connectionId,
      realmId: s.realmId,
      credentialVersion: r.version,
      accessTokenExpiresAt: at(r.accessExpiresAt),
      refreshTokenExpiresAt: at(r.refreshExpiresAt),
      refreshTokenRotated: r.rotated,
      rotatedAt: at(r.now),
    },
  });
  if (!r.reconnectSoon) return [rotatedEvent];
  return [
    rotatedEvent,
    events(ReconnectSoon, {
      ...base,
      data: {
        connectionId: s.connectionId,
        realmId: s.realmId,
        refreshTokenExpiresAt: at(r.hardExpiresAt),
        daysLeft: daysLeft(r.now, r.hardExpiresAt),
      },
    }),
  ];
}
