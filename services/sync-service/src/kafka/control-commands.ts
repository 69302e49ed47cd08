import type { EventHandler, Outbox } from '@qbo/event-bus';
import {
  type CatalogEvent,
  type EventFactory,
  SyncIntervalChanged,
  SyncPaused,
  SyncRequested,
  SyncResumed,
} from '@qbo/events';
import type { Logger } from '@qbo/service-kit';
import { scheduleBody } from '../domain/api-input.js';
import { type ControlRecord, getControl, pause, resume, setSyncInterval } from '../store/controls.js';
import type { Em } from '../store/sql.js';
import { askSync } from '../store/sync-requests.js';

type Of<T extends CatalogEvent['type']> = Extract<CatalogEvent, { type: T }>;

export interface ControlCommandDeps {
  once: <E extends CatalogEvent>(fn: (event: E, em: Em) => Promise<void>) => EventHandler<E>;
  log: Logger;
  outbox: Outbox;
  events: EventFactory;
  /** The service's interval between deltas and the range a company's own may take, as the HTTP API has them. */
  intervals: { defaultMs: number; minMs: number; maxMs: number };
}

/**
 * The sync controls the HTTP API has (`src/http/connections.ts`), as commands on `qbo.commands.v1`: a sync
 * asked for, pause, resume, a company's interval. Each goes through the same store functions as its route,
 * finds the company by the command's org and connection together (another org's connection is `not_found`,
 * exactly as an unknown one, and nothing changes), and is answered by one event on `qbo.sync-runs.v1` in the
 * transaction of its inbox row, so a redelivered command is answered once.
 */
export function controlCommandHandlers({ once, log, outbox, events, intervals }: ControlCommandDeps) {
  const schedule = scheduleBody(intervals.minMs, intervals.maxMs);
  /** The company of the command's own org that holds the connection, read in the handler's transaction. */
  const find = (em: Em, e: { orgId: string }, connectionId: string) => getControl(em, e.orgId, connectionId);
  /** The answer's envelope: the command's org; the realm only when the company was found (never guessed). */
  const envelope = (e: { orgId: string }, t: ControlRecord | undefined) => ({
    orgId: e.orgId,
    ...(t ? { realmId: t.realm_id } : {}),
  });
  const refused = (e: { id: string; orgId: string }, connectionId: string, outcome: string) =>
    log.warn({ orgId: e.orgId, connectionId, commandId: e.id, outcome }, 'sync command refused');
  const now = () => new Date().toISOString();

  return {
    RequestSync: once<Of<'RequestSync'>>(async (e, em) => {
      const d = e.data;
      const t = await find(em, e, d.connectionId);
      const asked = t ? await askSync(em, t, { mode: d.mode, entities: d.entities }) : undefined;
      const outcome = asked?.outcome ?? 'not_found';
      if (outcome !== 'accepted') refused(e, d.connectionId, outcome);
      const entities = asked?.outcome === 'unknown_entity' ? asked.entities : d.entities;
      await outbox.add(
        em,
        events(SyncRequested, {
          ...envelope(e, t),
          data: {
            commandId: e.id,
            connectionId: d.connectionId,
            outcome,
            mode: d.mode,
            ...(entities ? { entities } : {}),
            answeredAt: now(),
          },
        }),
      );
    }),

    PauseSync: once<Of<'PauseSync'>>(async (e, em) => {
      const t = await find(em, e, e.data.connectionId);
      if (t) await pause(em, { orgId: t.org_id, realmId: t.realm_id });
      else refused(e, e.data.connectionId, 'not_found');
      const after = t ? await find(em, e, e.data.connectionId) : undefined;
      await outbox.add(
        em,
        events(SyncPaused, {
          ...envelope(e, t),
          data: {
            commandId: e.id,
            connectionId: e.data.connectionId,
            outcome: !t ? 'not_found' : t.paused_at !== null ? 'already_paused' : 'paused',
            ...(after?.paused_at ? { pausedAt: new Date(after.paused_at).toISOString() } : {}),
            answeredAt: now(),
          },
        }),
      );
    }),

    ResumeSync: once<Of<'ResumeSync'>>(async (e, em) => {
      const t = await find(em, e, e.data.connectionId);
      const resumed = t ? await resume(em, { orgId: t.org_id, realmId: t.realm_id }) : false;
      if (!t) refused(e, e.data.connectionId, 'not_found');
      await outbox.add(
        em,
        events(SyncResumed, {
          ...envelope(e, t),
          data: {
            commandId: e.id,
            connectionId: e.data.connectionId,
            outcome: !t ? 'not_found' : resumed ? 'resumed' : 'not_paused',
            answeredAt: now(),
          },
        }),
      );
    }),

    SetSyncInterval: once<Of<'SetSyncInterval'>>(async (e, em) => {
      const d = e.data;
      const t = await find(em, e, d.connectionId);
      // The HTTP API's own check of the body: the same floor (SYNC_MIN_INTERVAL_MS) and ceiling.
      const allowed = schedule.safeParse({ intervalMs: d.intervalMs }).success;
      if (t && allowed) {
        await setSyncInterval(
          em,
          { orgId: t.org_id, realmId: t.realm_id },
          d.intervalMs,
          intervals.defaultMs,
        );
      }
      const outcome = !t ? 'not_found' : allowed ? 'set' : 'out_of_range';
      if (outcome !== 'set') refused(e, d.connectionId, outcome);
      await outbox.add(
        em,
        events(SyncIntervalChanged, {
          ...envelope(e, t),
          data: {
            commandId: e.id,
            connectionId: d.connectionId,
            outcome,
            ...(outcome === 'set'
              ? { intervalMs: d.intervalMs ?? intervals.defaultMs, isDefault: d.intervalMs === null }
              : {}),
            ...(outcome === 'out_of_range'
              ? { minIntervalMs: intervals.minMs, maxIntervalMs: intervals.maxMs }
              : {}),
            answeredAt: now(),
          },
        }),
      );
    }),
  };
}
