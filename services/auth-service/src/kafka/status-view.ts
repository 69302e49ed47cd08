import { type EventHandlers, exactlyOnce, type Inbox } from '@qbo/event-bus';
import type { AnyEnvelope, EventOfType } from '@qbo/events';
import type { Logger, MikroORM } from '@qbo/service-kit';
import { applySignal, type TokenSignal } from '../domain/status.js';
import type { Connections } from '../store/connections.js';

/**
 * The status view, fed by the token-service's facts. Each event is applied once (inbox, same transaction),
 * and one about another org's connection or an older grant is ignored.
 */
export function statusViewHandlers({
  orm,
  inbox,
  connections,
  log,
}: {
  orm: MikroORM;
  inbox: Inbox;
  connections: Connections;
  log: Logger;
}): EventHandlers {
  const project = <E extends AnyEnvelope & { data: { connectionId: string } }>(
    signal: (e: E) => TokenSignal,
  ) =>
    exactlyOnce<E>(orm, inbox, async (event, { em }) => {
      const current = await connections.getById(em, event.data.connectionId, true);
      if (!current || current.orgId !== event.orgId) return;
      const s = signal(event);
      const t = applySignal({ status: current.status, grantedAt: current.grantedAt }, s);
      if (!t.apply) {
        log.debug({ connectionId: current.id, kind: s.kind, why: t.why }, 'token signal not applied');
        return;
      }
      await connections.setStatus(em, current.id, t.status, t.deactivationReason);
      log.info({ connectionId: current.id, status: t.status }, 'connection status projected');
    });
  return {
    ConnectionDeactivated: project<EventOfType<'ConnectionDeactivated'>>((e) => ({
      kind: 'deactivated',
      reason: e.data.reason,
      at: new Date(e.data.deactivatedAt),
    })),
    ReauthorizationRequired: project<EventOfType<'ReauthorizationRequired'>>((e) => ({
      kind: 'reauthorization_required',
      reason: e.data.reason,
      at: new Date(e.data.requiredSince),
    })),
    ConnectionDegraded: project<EventOfType<'ConnectionDegraded'>>((e) => ({
      kind: 'degraded',
      at: new Date(e.data.degradedSince),
    })),
    // The status view's "last sync": the newest completed run, from sync-service.
    SyncCompleted: exactlyOnce<EventOfType<'SyncCompleted'>>(orm, inbox, async (event, { em }) => {
      await connections.recordSync(
        em,
        event.data.connectionId,
        event.orgId,
        new Date(event.data.completedAt),
      );
    }),
    ConnectionRecovered: project<EventOfType<'ConnectionRecovered'>>((e) => ({
      kind: 'recovered',
      at: new Date(e.data.recoveredAt),
    })),
  };
}
