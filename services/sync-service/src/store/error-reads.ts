import { query } from '@qbo/service-kit';
import type { OrgScope } from './run-reads.js';
import type { Em } from './sql.js';

/** A `sync_error` row as the API shows it, with the company's current connection. */
export interface ErrorRecord {
  error_id: string;
  org_id: string;
  realm_id: string;
  connection_id: string | null;
  connection_active: boolean;
  kind: string;
  entity: string;
  entity_id: string | null;
  range_from: Date | null;
  range_to: Date | null;
  position: number | null;
  after_id: string | null;
  category: string;
  code: string;
  retryable: boolean;
  remediation: string | null;
  attempts: number;
  first_seen_at: Date;
  last_seen_at: Date;
  first_run_id: string;
  last_run_id: string;
  api_call_id: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolved_run_id: string | null;
  retried_at: Date | null;
  /** `first_seen_at` as Postgres prints it (microseconds and offset), for an exact cursor. */
  seen_key: string;
}

const ERROR_COLUMNS = `e.error_id::text, e.org_id, e.realm_id, t.connection_id::text,
  coalesce(t.status = 'active', false) as connection_active, e.kind, e.entity, e.entity_id, e.range_from,
  e.range_to, e.position, e.after_id, e.category, e.code, e.retryable, e.remediation, e.attempts,
  e.first_seen_at, e.last_seen_at, e.first_run_id::text, e.last_run_id::text, e.api_call_id::text,
  e.resolved_at, e.resolved_by, e.resolved_run_id::text, e.retried_at, e.first_seen_at::text as seen_key`;

const FROM = 'sync_error e left join sync_target t on t.org_id = e.org_id and t.realm_id = e.realm_id';

export interface ErrorFilter {
  scope: OrgScope;
  orgId?: string | undefined;
  connectionId?: string | undefined;
  runId?: string | undefined;
  category?: string | undefined;
  retryable?: boolean | undefined;
  state?: 'open' | 'resolved' | undefined;
  entity?: string | undefined;
  /** The last row of the previous page: rows first seen strictly earlier come next. */
  after?: { key: string; id: string } | undefined;
  limit: number;
}

/**
 * Error rows newest first (by when they were first met, which never changes, so pages neither skip nor repeat
 * a row while rows are met again), `limit + 1` of them so the caller knows whether another page follows.
 */
export function listErrors(em: Em, f: ErrorFilter): Promise<ErrorRecord[]> {
  return query<ErrorRecord>(
    em,
    `select ${ERROR_COLUMNS} from ${FROM}
     where ($1::text is null or e.org_id = $1) and ($2::text is null or e.org_id = $2)
       and ($3::uuid is null or t.connection_id = $3)
       and ($4::uuid is null or e.first_run_id = $4 or e.last_run_id = $4)
       and ($5::text is null or e.category = $5) and ($6::boolean is null or e.retryable = $6)
       and ($7::text is null or ($7 = 'open') = (e.resolved_at is null))
       and ($8::text is null or e.entity = $8)
       and ($9::timestamptz is null or (e.first_seen_at, e.error_id) < ($9::timestamptz, $10::uuid))
     order by e.first_seen_at desc, e.error_id desc limit $11`,
    [
      f.scope,
      f.orgId ?? null,
      f.connectionId ?? null,
      f.runId ?? null,
      f.category ?? null,
      f.retryable ?? null,
      f.state ?? null,
      f.entity ?? null,
      f.after?.key ?? null,
      f.after?.id ?? null,
      f.limit + 1,
    ],
  );
}

export async function getError(em: Em, scope: OrgScope, errorId: string): Promise<ErrorRecord | undefined> {
  const rows = await query<ErrorRecord>(
    em,
    `select ${ERROR_COLUMNS} from ${FROM} where e.error_id = $1::uuid and ($2::text is null or e.org_id = $2)`,
    [errorId, scope],
  );
  return rows[0];
}
