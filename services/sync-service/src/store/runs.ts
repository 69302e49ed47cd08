import { execute, query } from '@qbo/service-kit';
import type { PageCounts } from './mirror.js';
import type { Em } from './sql.js';

export type RunMode = 'initial' | 'cdc' | 'query' | 'reconciliation';
export type RunTrigger = 'connection' | 'schedule' | 'webhook' | 'command' | 'resume';

export interface RunRow {
  runId: string;
  orgId: string;
  realmId: string;
  connectionId: string;
  trigger: RunTrigger;
  mode: RunMode;
  entities: readonly string[];
  generation?: number | undefined;
}

export async function insertRun(em: Em, run: RunRow): Promise<Date> {
  const rows = await query<{ started_at: Date }>(
    em,
    `insert into sync_run (run_id, org_id, realm_id, connection_id, trigger, mode, entities, status, generation)
     values ($1, $2, $3, $4, $5, $6, $7, 'running', $8) returning started_at`,
    [
      run.runId,
      run.orgId,
      run.realmId,
      run.connectionId,
      run.trigger,
      run.mode,
      run.entities,
      run.generation ?? null,
    ],
  );
  return new Date(rows[0]?.started_at as Date);
}

/** Progress of a run, written with the page it counts: a resumed run's row never counts a page twice. */
export async function addProgress(
  em: Em,
  runId: string,
  counts: PageCounts & { pages: number; calls: number },
): Promise<void> {
  await execute(
    em,
    `update sync_run set pages = pages + $2, upserted = upserted + $3, deleted = deleted + $4,
       unchanged = unchanged + $5, api_calls = api_calls + $6 where run_id = $1`,
    [runId, counts.pages, counts.upserted, counts.deleted, counts.unchanged, counts.calls],
  );
}

/** The mode a run ended up reading by, when it differs from the one it started with. */
export async function setMode(em: Em, runId: string, mode: RunMode): Promise<void> {
  await execute(em, 'update sync_run set mode = $2 where run_id = $1', [runId, mode]);
}

export async function setEstimate(em: Em, runId: string, total: number): Promise<void> {
  await execute(em, 'update sync_run set estimate_total = $2 where run_id = $1', [runId, total]);
}

export interface RunTotals {
  upserted: number;
  deleted: number;
  unchanged: number;
  apiCalls: number;
  startedAt: Date;
}

export async function finishRun(
  em: Em,
  runId: string,
  status: 'completed' | 'failed',
  error?: unknown,
): Promise<RunTotals> {
  const rows = await query<{
    upserted: number;
    deleted: number;
    unchanged: number;
    api_calls: number;
    started_at: Date;
  }>(
    em,
    `update sync_run set status = $2, error = $3::jsonb, finished_at = now() where run_id = $1
     returning upserted, deleted, unchanged, api_calls, started_at`,
    [runId, status, error === undefined ? null : JSON.stringify(error)],
  );
  const r = rows[0];
  if (!r) throw new Error(`no run ${runId}`);
  return {
    upserted: r.upserted,
    deleted: r.deleted,
    unchanged: r.unchanged,
    apiCalls: r.api_calls,
    startedAt: new Date(r.started_at),
  };
}

export interface AbandonedRun {
  runId: string;
  realmId: string;
  connectionId: string;
  mode: RunMode;
  startedAt: Date;
  upserted: number;
  deleted: number;
  unchanged: number;
}

/**
 * Ends the runs of an org still marked running when a new one starts under the org's lease: runs of one org
 * never overlap, so such a run belonged to a replica that died (kill -9, a lost node) before it could say so.
 * Its row is failed with `failure`, so the API and the console never show a run that will not move again.
 */
export async function closeAbandonedRuns(em: Em, orgId: string, failure: unknown): Promise<AbandonedRun[]> {
  const rows = await query<{
    run_id: string;
    realm_id: string;
    connection_id: string;
    mode: RunMode;
    started_at: Date;
    upserted: number;
    deleted: number;
    unchanged: number;
  }>(
    em,
    `update sync_run set status = 'failed', error = $2::jsonb, finished_at = now()
     where org_id = $1 and status = 'running'
     returning run_id::text, realm_id, connection_id::text, mode, started_at, upserted, deleted, unchanged`,
    [orgId, JSON.stringify(failure)],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    realmId: r.realm_id,
    connectionId: r.connection_id,
    mode: r.mode,
    startedAt: new Date(r.started_at),
    upserted: r.upserted,
    deleted: r.deleted,
    unchanged: r.unchanged,
  }));
}
