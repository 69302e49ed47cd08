import type { EventHandler, EventHandlers, Outbox } from '@qbo/event-bus';
import { type CatalogEvent, type EventFactory, SyncErrorRetried } from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { type ConnectionFact, connectionStopped, connectionUsable, notice } from '../store/projection.js';
import type { Em } from '../store/sql.js';
import { recordRetry } from '../store/sync-retries.js';
import { wantSync } from '../store/targets.js';
import { type ControlCommandDeps, controlCommandHandlers } from './control-commands.js';

type Of<T extends CatalogEvent['type']> = Extract<CatalogEvent, { type: T }>;

export interface HandlerDeps {
  /** Runs the handler's effect once per event, in one transaction with its inbox row. */
  once: <E extends CatalogEvent>(fn: (event: E, em: Em) => Promise<void>) => EventHandler<E>;
  entities: readonly EntityDecl[];
  debounceMs: number;
  log: Logger;
  /** For answering a retry command at once when no active connection of the org is the one it names. */
  outbox: Outbox;
  events: EventFactory;
  /** The interval bounds the sync controls hold a company to (see `./control-commands.ts`). */
  intervals: ControlCommandDeps['intervals'];
  /** Runs with a disconnect's stop, in its transaction: the data lifecycle's purge after the grace period. */
  onDisconnected?: (em: Em, fact: ConnectionFact) => Promise<void>;
}

/**
 * The events sync-service acts on. Each only records intent in the database (the projection of connections,
 * the newest notified change, a sync asked for); the worker makes the calls, so no Kafka handler ever waits on
 * Intuit and a redelivered event changes nothing twice.
 */
export function syncHandlers({
  once,
  entities,
  debounceMs,
  log,
  outbox,
  events,
  intervals,
  onDisconnected,
}: HandlerDeps): EventHandlers {
  const names = entities.map((d) => d.name);
  const fact = (e: { orgId: string; time: string; data: { realmId: string; connectionId: string } }) => ({
    orgId: e.orgId,
    realmId: e.data.realmId,
    connectionId: e.data.connectionId,
    at: e.time,
  });
  /**
   * Keeps a retry command for the worker, which does it under the org's lease, and brings the company's next
   * claim forward; a command naming no active connection of its org is answered `not_found` right away.
   */
  const retry = async (
    e: { id: string; orgId: string; realmId?: string | undefined },
    em: Em,
    connectionId: string,
    ask: { errorId?: string; runId?: string },
  ) => {
    const recorded = await recordRetry(em, { commandId: e.id, orgId: e.orgId, connectionId, ...ask });
    if (!recorded) {
      log.warn({ orgId: e.orgId, connectionId, commandId: e.id }, 'retry for no active connection; refused');
      if (ask.errorId) {
        await outbox.add(
          em,
          events(SyncErrorRetried, {
            orgId: e.orgId,
            ...(e.realmId ? { realmId: e.realmId } : {}),
            data: {
              commandId: e.id,
              connectionId,
              errorId: ask.errorId,
              outcome: 'not_found',
              apiCalls: 0,
              retriedAt: new Date().toISOString(),
            },
          }),
        );
      }
    }
  };
  return {
    RetrySyncError: once<Of<'RetrySyncError'>>(async (e, em) => {
      await retry(e, em, e.data.connectionId, { errorId: e.data.errorId });
    }),
    RetryRunErrors: once<Of<'RetryRunErrors'>>(async (e, em) => {
      await retry(e, em, e.data.connectionId, { runId: e.data.syncRunId });
    }),
    ConnectionEstablished: once<Of<'ConnectionEstablished'>>(async (e, em) => {
      await connectionUsable(em, fact(e), names);
    }),
    ConnectionReauthorized: once<Of<'ConnectionReauthorized'>>(async (e, em) => {
      await connectionUsable(em, fact(e), names);
    }),
    ConnectionDisconnected: once<Of<'ConnectionDisconnected'>>(async (e, em) => {
      await connectionStopped(em, fact(e), 'disconnected');
      await onDisconnected?.(em, fact(e));
    }),
    ConnectionDeactivated: once<Of<'ConnectionDeactivated'>>(async (e, em) => {
      await connectionStopped(em, fact(e), 'deactivated');
    }),
    ReauthorizationRequired: once<Of<'ReauthorizationRequired'>>(async (e, em) => {
      await connectionStopped(em, fact(e), 'deactivated');
    }),
    ConnectionRecovered: once<Of<'ConnectionRecovered'>>(async (e, em) => {
      await wantSync(em, e.orgId, e.data.realmId, 0, 'resume');
    }),
    EntityChangeNotified: once<Of<'EntityChangeNotified'>>(async (e, em) => {
      const d = e.data;
      if (!names.includes(d.entity)) return;
      const base = { orgId: e.orgId, realmId: d.realmId, entity: d.entity, lastUpdated: d.lastUpdated };
      let wanted = await notice(em, { ...base, entityId: d.entityId, operation: d.operation });
      if (d.operation === 'Merge' && d.deletedId) {
        const loser = { ...base, entityId: d.deletedId, operation: 'Merge', mergedInto: d.entityId };
        wanted = (await notice(em, loser)) || wanted;
      }
      if (wanted) await wantSync(em, e.orgId, d.realmId, debounceMs, 'webhook');
    }),
    ...controlCommandHandlers({ once, log, outbox, events, intervals }),
  };
}
