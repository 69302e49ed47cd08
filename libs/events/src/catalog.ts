import type { z } from 'zod';
import type { EventDefinition, EventOf } from './define-event.js';
import { envelopeSchema } from './envelope.js';
import {
  DeleteRecord,
  DeleteRecordV1,
  PauseSync,
  RequestSync,
  ResumeSync,
  RetryRunErrors,
  RetrySyncError,
  SetSyncInterval,
  UpsertRecord,
  UpsertRecordV1,
} from './events/commands.js';
import {
  ConnectAttemptRejected,
  ConnectionDisconnected,
  ConnectionEstablished,
  ConnectionReauthorized,
} from './events/connections.js';
import { ConnectionDataPurged, EraseConnectionData, EraseOrgData } from './events/lifecycle.js';
import {
  RecordDeleted,
  RecordSnapshotCompleted,
  RecordSnapshotStarted,
  RecordState,
  RecordUpserted,
} from './events/records.js';
import {
  ConnectionSyncFailing,
  RecordPushed,
  RecordPushFailed,
  RunErrorsRetried,
  SyncCompleted,
  SyncErrorRetried,
  SyncFailed,
  SyncIntervalChanged,
  SyncPaused,
  SyncRequested,
  SyncResumed,
  SyncStarted,
} from './events/sync-runs.js';
import {
  AppCredentialsRejected,
  ConnectionDeactivated,
  ConnectionDegraded,
  ConnectionRecovered,
  ReauthorizationRequired,
  ReconnectSoon,
  TokenRotated,
} from './events/tokens.js';
import { EntityChangeNotified, WebhookParked } from './events/webhooks.js';
import type { TopicName } from './topics.js';
import { EventSchemaError, validateReceived } from './validate.js';

/** Every event of the platform, each version that may still be on a topic. Append; never remove or edit a released one. */
export const definitions = [
  ConnectionEstablished,
  ConnectionReauthorized,
  ConnectionDisconnected,
  ConnectAttemptRejected,
  TokenRotated,
  ConnectionDegraded,
  ConnectionRecovered,
  ConnectionDeactivated,
  ReauthorizationRequired,
  ReconnectSoon,
  AppCredentialsRejected,
  EntityChangeNotified,
  WebhookParked,
  RecordUpserted,
  RecordDeleted,
  RecordSnapshotStarted,
  RecordSnapshotCompleted,
  RecordState,
  SyncStarted,
  SyncCompleted,
  SyncFailed,
  RecordPushed,
  RecordPushFailed,
  UpsertRecordV1,
  DeleteRecordV1,
  RequestSync,
  RetrySyncError,
  RetryRunErrors,
  SyncErrorRetried,
  RunErrorsRetried,
  ConnectionSyncFailing,
  PauseSync,
  ResumeSync,
  SetSyncInterval,
  SyncRequested,
  SyncPaused,
  SyncResumed,
  SyncIntervalChanged,
  EraseConnectionData,
  EraseOrgData,
  ConnectionDataPurged,
  UpsertRecord,
  DeleteRecord,
] as const;

export type CatalogDefinition = (typeof definitions)[number];
export type CatalogEvent = EventOf<CatalogDefinition>;
export type EventType = CatalogDefinition['type'];
export type EventOfType<T extends EventType> = Extract<CatalogEvent, { type: T }>;

/** Turns one version's data into the next version's; registered for each breaking change. */
export interface Upcaster {
  type: string;
  fromVersion: number;
  up(data: unknown): unknown;
}

export function defineUpcaster<F extends EventDefinition, T extends EventDefinition>(
  from: F,
  to: T,
  up: (data: z.output<F['data']>) => z.input<T['data']>,
): Upcaster {
  if (from.type !== to.type || to.version !== from.version + 1) {
    throw new Error(
      `an upcaster goes from one version to the next of one event: ${from.type} v${from.version} → ${to.type} v${to.version}`,
    );
  }
  return { type: from.type, fromVersion: from.version, up: (data) => up(data as z.output<F['data']>) };
}

/** A received message that is well formed but names an event this build cannot read. */
export class UnknownEventError extends Error {
  readonly code: 'unknown_type' | 'unknown_version' | 'no_upcaster';
  readonly retryable = false;

  constructor(code: UnknownEventError['code'], message: string) {
    super(message);
    this.name = 'UnknownEventError';
    this.code = code;
  }
}

export interface Catalog<D extends EventDefinition = EventDefinition> {
  readonly definitions: readonly D[];
  find(type: string, version: number): D | undefined;
  /** The newest version of a type: the one producers write and handlers receive. */
  latest(type: string): D | undefined;
  onTopic(topic: TopicName): readonly D[];
  /**
   * Validates a decoded message and brings it to the newest version of its type through the upcasters.
   * Throws EventSchemaError or UnknownEventError.
   */
  read(raw: unknown): EventOf<D>;
}

export function createCatalog<D extends EventDefinition>(
  defs: readonly D[],
  upcasters: readonly Upcaster[] = [],
): Catalog<D> {
  const byKey = new Map(defs.map((d) => [`${d.type}@${d.version}`, d]));
  const latest = new Map<string, D>();
  for (const d of defs) {
    const current = latest.get(d.type);
    if (!current || current.version < d.version) latest.set(d.type, d);
  }
  const upcasterFor = (type: string, version: number) =>
    upcasters.find((u) => u.type === type && u.fromVersion === version);

  return {
    definitions: defs,
    find: (type, version) => byKey.get(`${type}@${version}`),
    latest: (type) => latest.get(type),
    onTopic: (topic) => defs.filter((d) => d.topic === topic && latest.get(d.type) === d),
    read(raw) {
      const head = envelopeSchema.safeParse(raw);
      if (!head.success) {
        throw new EventSchemaError(
          'event',
          head.error.issues.map((i) => ({
            path: i.path.map(String).join('.') || '(event)',
            message: i.message,
          })),
        );
      }
      const { type, version } = head.data;
      const newest = latest.get(type);
      if (!newest) throw new UnknownEventError('unknown_type', `unknown event type ${type}`);
      const def = byKey.get(`${type}@${version}`);
      if (!def)
        throw new UnknownEventError(
          'unknown_version',
          `unknown version ${version} of ${type} (newest known: ${newest.version})`,
        );
      let event = validateReceived(def, raw) as { version: number; data: unknown };
      while (event.version < newest.version) {
        const upcaster = upcasterFor(type, event.version);
        if (!upcaster)
          throw new UnknownEventError('no_upcaster', `no upcaster from ${type} v${event.version}`);
        event = { ...event, version: event.version + 1, data: upcaster.up(event.data) };
      }
      return (def === newest ? event : validateReceived(newest, event)) as EventOf<D>;
    },
  };
}

/**
 * Upcasters of the platform's events. Push commands v1 carried a caller-chosen `requestId`; from v2 the
 * command's id is the idempotency key, so a v1 command is read as v2 without it (its envelope id then decides).
 */
export const upcasters: readonly Upcaster[] = [
  defineUpcaster(UpsertRecordV1, UpsertRecord, ({ requestId: _, ...data }) => data),
  defineUpcaster(DeleteRecordV1, DeleteRecord, ({ requestId: _, ...data }) => data),
];

export const catalog: Catalog<CatalogDefinition> = createCatalog(definitions, upcasters);
