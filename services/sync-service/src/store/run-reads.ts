import { query } from '@qbo/service-kit';
import type { RunFacts } from '../domain/run-view.js';
import type { Em } from './sql.js';

/** Whose rows a read may see: one org's, or every org's (`null`, an operator). */
export type OrgScope = string | null;

export interface RunRecord extends RunFacts {
  /** `started_at` as Postgres prints it (microseconds and offset), for an exact cursor. */
  started_key: string;
}

const RUN_COLUMNS = `run_id::text, org_id, realm_id, connection_id::text, trigger, mode, entities, status,
  generation, pages, upserted, deleted, unchanged, api_calls, estimate_total, error, started_at, finished_at,
  started_at::text as started_key`;

export interface RunFilter {
  scope: OrgScope;
  orgId?: string | undefined;
  connectionId?: string | undefined;
  realmId?: string | undefined;
  status?: string | undefined;
  mode?: string | undefined;
  /** The last run of the previous page: runs strictly older come next. */
  after?: { startedKey: string; runId: string } | undefined;
  limit: number;
}

/**
 * Runs newest first, `limit + 1` of them, so the caller knows whether another page follows. The order names
 * the table's columns: the selected `run_id::text` would otherwise order as text.
 */
export function listRuns(em: Em, f: RunFilter): Promise<RunRecord[]> {
  return query<RunRecord>(
    em,
    `select ${RUN_COLUMNS} from sync_run
     where ($1::text is null or org_id = $1) and ($2::text is null or org_id = $2)
       and ($3::uuid is null or connection_id = $3) and ($4::text is null or realm_id = $4)
       and ($5::text is null or status = $5) and ($6::text is null or mode = $6)
       and ($7::timestamptz is null or (started_at, run_id) < ($7::timestamptz, $8::uuid))
     order by sync_run.started_at desc, sync_run.run_id desc limit $9`,
    [
      f.scope,
      f.orgId ?? null,
      f.connectionId ?? null,
      f.realmId ?? null,
      f.status ?? null,
      f.mode ?? null,
      f.after?.startedKey ?? null,
      f.after?.runId ?? null,
      f.limit + 1,
    ],
  );
}

export async function getRun(em: Em, scope: OrgScope, runId: string): Promise<RunRecord | undefined> {
  const rows = await query<RunRecord>(
    em,
    `select ${RUN_COLUMNS} from sync_run where run_id = $1 and ($2::text is null or org_id = $2)`,
    [runId, scope],
  );
  return rows[0];
}

export interface ApiCallRecord {
  id: string;
  at: Date;
  operation: string;
  method: string;
  path: string;
  entity_type: string | null;
  status: number | null;
  fault_code: string | null;
  category: string | null;
  intuit_tid: string | null;
  trace_id: string | null;
  attempt: number;
  budget_wait_ms: number;
  retry_delay_ms: number;
  duration_ms: number;
  response_bytes: number | null;
}

/**
 * The calls a run made to Intuit, oldest first: the client logs each with the run's id as its correlation id
 * (`src/sync/session.ts`), so they are the run's own, never a neighbour's in the same realm. The query text is
 * left out: it is Intuit's SQL, not the caller's business, and may be long. Ordered by the table's id, not the
 * selected text (which orders '10' before '2').
 */
export function listApiCalls(
  em: Em,
  run: { runId: string; realmId: string },
  afterId: string | undefined,
  limit: number,
): Promise<ApiCallRecord[]> {
  return query<ApiCallRecord>(
    em,
    `select id::text, at, operation, method, path, entity_type, status, fault_code, category, intuit_tid, trace_id,
       attempt, budget_wait_ms, retry_delay_ms, duration_ms, response_bytes
     from qbo_api_log where correlation_id = $1 and realm_id = $2 and ($3::bigint is null or id > $3::bigint)
     order by qbo_api_log.id limit $4`,
    [run.runId, run.realmId, afterId ?? null, limit + 1],
  );
}
