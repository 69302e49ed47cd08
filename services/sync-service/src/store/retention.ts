import { execute } from '@qbo/service-kit';
import type { Em } from './sql.js';

export interface RetentionSettings {
  apiLogMs: number;
  runMs: number;
  /** Resolved error rows only: an open one is kept until it is resolved, whatever its age. */
  errorMs: number;
}

export interface RetentionCounts {
  apiCalls: number;
  runs: number;
  errors: number;
}

/**
 * One batch of rows past their retention, oldest first, per table: API log rows by when the call was made,
 * finished runs (with their per-entity rows) by when they finished, resolved errors by when they were resolved.
 */
export async function pruneBatch(em: Em, s: RetentionSettings, limit: number): Promise<RetentionCounts> {
  const apiCalls = await execute(
    em,
    `delete from qbo_api_log where id in (select id from qbo_api_log
       where at < now() - make_interval(secs => $1::float8) order by at limit $2)`,
    [s.apiLogMs / 1000, limit],
  );
  const runs = await execute(
    em,
    `with old as (
       select run_id from sync_run where finished_at < now() - make_interval(secs => $1::float8)
       order by finished_at limit $2),
     entities as (delete from sync_run_entity where run_id in (select run_id from old))
     delete from sync_run where run_id in (select run_id from old)`,
    [s.runMs / 1000, limit],
  );
  const errors = await execute(
    em,
    `delete from sync_error where ctid in (select ctid from sync_error
       where resolved_at < now() - make_interval(secs => $1::float8) order by resolved_at limit $2)`,
    [s.errorMs / 1000, limit],
  );
  return { apiCalls, runs, errors };
}
