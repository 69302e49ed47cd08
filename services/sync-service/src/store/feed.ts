import type { RecordChange } from '../domain/record-change.js';
import type { Em } from './sql.js';

/** The company a write belongs to. */
export interface Target {
  orgId: string;
  realmId: string;
  connectionId: string;
}

export type Origin = 'query' | 'cdc' | 'webhook' | 'reconcile' | 'push';

export interface SnapshotRef {
  runId: string;
  generation: number;
}

/** One entry of the org's ordered change log, with the sequence number the writing transaction gave it. */
export type FeedEntry =
  | {
      kind: 'record';
      seq: bigint;
      target: Target;
      entity: string;
      change: Extract<RecordChange, { kind: 'upsert' } | { kind: 'delete' }>;
      origin: Origin;
      runId: string;
      snapshot?: SnapshotRef | undefined;
    }
  | {
      kind: 'snapshot_started' | 'snapshot_completed';
      seq: bigint;
      target: Target;
      snapshot: SnapshotRef;
      mode: 'initial' | 'resync' | 'reconcile';
      entities: readonly string[];
      counts?: { records: number; deleted: number };
    };

/** Writes change-log entries (and their latest-state rows) in the caller's transaction. */
export interface FeedWriter {
  write(em: Em, entries: readonly FeedEntry[]): Promise<void>;
}
