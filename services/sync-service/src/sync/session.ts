import {
  MAX_BATCH_ITEMS,
  type QboClient,
  type QboObject,
  type QueryPage,
  type QueryParts,
} from '@qbo/qbo-client';
import { AppError, type Logger, type MikroORM, query } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import type { SyncMetrics } from '../metrics.js';
import type { FeedWriter, Target } from '../store/feed.js';
import { fence, type Lease } from '../store/lease.js';
import type { PageCounts } from '../store/mirror.js';
import { addProgress } from '../store/runs.js';
import type { Em } from '../store/sql.js';
import { countRunEntity } from '../store/sync-errors.js';
import type { CdcFn, QueryFn } from './ports.js';

export class ConnectionStoppedError extends AppError {
  constructor(readonly connectionStatus: string) {
    super('connection_stopped', `the connection is ${connectionStatus}; syncing stopped`);
    this.name = 'ConnectionStoppedError';
  }
}

/** Everything one run of one company works with: its calls, counted, and its fenced transactions. */
export interface SyncSession {
  target: Target;
  lease: Lease;
  runId: string;
  decls: readonly EntityDecl[];
  /** A query; `callId` names the call in `qbo_api_log` when the caller must link to it. */
  query(parts: QueryParts, opts?: CallOptions): ReturnType<QueryFn>;
  cdc: CdcFn;
  /**
   * Queries asked together in Intuit's `/batch`, one call for up to 30 of them: each one's page or its own
   * error, in order (a failed call throws). Intuit caps the answer at 1,000 objects across the items.
   */
  queryBatch(parts: readonly QueryParts[]): Promise<BatchAnswer[]>;
  /** One record by Id (Intuit's read endpoint). */
  read(entity: string, id: string, opts?: CallOptions): Promise<QboObject>;
  /** Calls made so far by this run, and since the last time this was asked. */
  takeCalls(): number;
  /** Writes the calls not yet counted in the run's per-entity rows (`*` for multi-entity CDC calls). */
  flushEntityCalls(em: Em): Promise<void>;
  /**
   * A transaction that first proves this replica still holds the org's lease (extending it) and that the
   * connection is still the one being synced and active; otherwise it throws and nothing is written.
   */
  write<T>(fn: (em: Em) => Promise<T>): Promise<T>;
  /**
   * Counts a committed page (or the calls made since the last one) in the run's row, inside the page's
   * transaction, so a resumed run never counts a page twice; metrics and a log line every few pages follow.
   */
  progress(em: Em, counts: Partial<PageCounts> & { pages: number; entity?: string }): Promise<void>;
  feed: FeedWriter;
}

export type BatchAnswer = { page: QueryPage } | { error: Error };

export interface SessionDeps {
  orm: MikroORM;
  qbo: QboClient;
  feed: FeedWriter;
  leaseTtlMs: number;
  signal?: AbortSignal;
  metrics: SyncMetrics;
  log: Logger;
  mode: string;
}

export interface CallOptions {
  callId?: string;
}

/** The calls of multi-entity CDC requests, in the per-entity audit rows. */
export const ALL_ENTITIES = '*';

/** A progress line every this many pages, so a long load shows it is moving without a line per call. */
const LOG_EVERY_PAGES = 10;

export function openSession(
  deps: SessionDeps,
  target: Target,
  lease: Lease,
  runId: string,
  decls: readonly EntityDecl[],
): SyncSession {
  let calls = 0;
  const entityCalls = new Map<string, number>();
  const counted = (entity: string) => {
    calls++;
    entityCalls.set(entity, (entityCalls.get(entity) ?? 0) + 1);
  };
  const takeEntityCalls = (entity: string) => {
    const n = entityCalls.get(entity) ?? 0;
    entityCalls.delete(entity);
    return n;
  };
  let pages = 0;
  let records = 0;
  const ctx = {
    orgId: target.orgId,
    correlationId: runId,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  const takeCalls = () => {
    const n = calls;
    calls = 0;
    return n;
  };
  return {
    target,
    lease,
    runId,
    decls,
    feed: deps.feed,
    query: async (parts, opts) => {
      counted(parts.entity);
      return deps.qbo.query(target.realmId, parts, { ...ctx, ...opts });
    },
    cdc: async (entities, since) => {
      counted(ALL_ENTITIES);
      return deps.qbo.cdc(target.realmId, entities, new Date(since), ctx);
    },
    async queryBatch(parts) {
      const answers: BatchAnswer[] = [];
      for (let i = 0; i < parts.length; i += MAX_BATCH_ITEMS) {
        const items = parts.slice(i, i + MAX_BATCH_ITEMS).map((query, n) => ({ bId: `q${n}`, query }));
        counted(ALL_ENTITIES);
        for (const result of await deps.qbo.batch(target.realmId, items, ctx)) {
          if (!result.ok) answers.push({ error: result.error });
          else if ('query' in result) answers.push({ page: result.query });
          else answers.push({ error: new Error(`batch item ${result.bId} answered no QueryResponse`) });
        }
      }
      return answers;
    },
    read: async (entity, id, opts) => {
      counted(entity);
      return deps.qbo.read(target.realmId, entity, id, { ...ctx, ...opts });
    },
    takeCalls,
    async flushEntityCalls(em) {
      for (const entity of [...entityCalls.keys()]) {
        await countRunEntity(em, runId, entity, { calls: takeEntityCalls(entity) });
      }
    },
    async progress(em, counts) {
      const c = {
        pages: counts.pages,
        upserted: counts.upserted ?? 0,
        deleted: counts.deleted ?? 0,
        unchanged: counts.unchanged ?? 0,
        calls: takeCalls(),
      };
      await addProgress(em, runId, c);
      if (counts.entity !== undefined) {
        await countRunEntity(em, runId, counts.entity, {
          pages: c.pages,
          upserted: c.upserted,
          deleted: c.deleted,
          unchanged: c.unchanged,
          calls: takeEntityCalls(counts.entity),
        });
      }
      deps.metrics.page(deps.mode, c);
      const before = pages;
      pages += c.pages;
      records += c.upserted + c.deleted + c.unchanged;
      if (Math.floor(pages / LOG_EVERY_PAGES) > Math.floor(before / LOG_EVERY_PAGES)) {
        deps.log.info(
          { runId, orgId: target.orgId, realmId: target.realmId, pages, records },
          'sync progress',
        );
      }
    },
    write: (fn) =>
      deps.orm.em.fork().transactional(async (em) => {
        // The company's row before the lease's, as a claim locks them: the other order deadlocks with another
        // replica's claim of this company, which holds its row and waits for the lease.
        await assertStillSyncing(em, target);
        await fence(em, lease, deps.leaseTtlMs);
        return fn(em);
      }),
  };
}

async function assertStillSyncing(em: Em, target: Target): Promise<void> {
  const rows = await query<{ status: string; connection_id: string }>(
    em,
    'select status, connection_id::text from sync_target where org_id = $1 and realm_id = $2 for share',
    [target.orgId, target.realmId],
  );
  const row = rows[0];
  if (!row || row.connection_id !== target.connectionId) throw new ConnectionStoppedError('replaced');
  if (row.status !== 'active') throw new ConnectionStoppedError(row.status);
}
