import type { QboClient } from '@qbo/qbo-client';
import type { MikroORM } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import type { FeedWriter, Target } from '../store/feed.js';
import { fence, type Lease } from '../store/lease.js';
import { type Em, query } from '../store/sql.js';
import type { CdcFn, QueryFn } from './ports.js';

export class ConnectionStoppedError extends Error {
  readonly code = 'connection_stopped';
  readonly retryable = false;
  constructor(readonly status: string) {
    super(`the connection is ${status}; syncing stopped`);
    this.name = 'ConnectionStoppedError';
  }
}

/** Everything one run of one company works with: its calls, counted, and its fenced transactions. */
export interface SyncSession {
  target: Target;
  lease: Lease;
  runId: string;
  decls: readonly EntityDecl[];
  query: QueryFn;
  cdc: CdcFn;
  /** Calls made so far by this run, and since the last time this was asked. */
  takeCalls(): number;
  /**
   * A transaction that first proves this replica still holds the org's lease (extending it) and that the
   * connection is still the one being synced and active; otherwise it throws and nothing is written.
   */
  write<T>(fn: (em: Em) => Promise<T>): Promise<T>;
  feed: FeedWriter;
}

export interface SessionDeps {
  orm: MikroORM;
  qbo: QboClient;
  feed: FeedWriter;
  leaseTtlMs: number;
  signal?: AbortSignal;
}

export function openSession(
  deps: SessionDeps,
  target: Target,
  lease: Lease,
  runId: string,
  decls: readonly EntityDecl[],
): SyncSession {
  let calls = 0;
  const ctx = {
    orgId: target.orgId,
    correlationId: runId,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  return {
    target,
    lease,
    runId,
    decls,
    feed: deps.feed,
    query: async (parts) => {
      calls++;
      return deps.qbo.query(target.realmId, parts, ctx);
    },
    cdc: async (entities, since) => {
      calls++;
      return deps.qbo.cdc(target.realmId, entities, new Date(since), ctx);
    },
    takeCalls: () => {
      const n = calls;
      calls = 0;
      return n;
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
