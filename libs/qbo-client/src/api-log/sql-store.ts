import { execute, type SqlContext } from '@qbo/service-kit';
import type { ApiLogRow, ApiLogStore } from './row.js';

const COLUMNS = [
  ['at', (r: ApiLogRow) => r.at],
  ['org_id', (r: ApiLogRow) => r.orgId],
  ['realm_id', (r: ApiLogRow) => r.realmId],
  ['operation', (r: ApiLogRow) => r.operation],
  ['method', (r: ApiLogRow) => r.method],
  ['path', (r: ApiLogRow) => r.path],
  ['query', (r: ApiLogRow) => r.query],
  ['entity_type', (r: ApiLogRow) => r.entityType],
  ['entity_id', (r: ApiLogRow) => r.entityId],
  ['status', (r: ApiLogRow) => r.status],
  ['fault_code', (r: ApiLogRow) => r.faultCode],
  ['category', (r: ApiLogRow) => r.category],
  ['intuit_tid', (r: ApiLogRow) => r.intuitTid],
  ['attempt', (r: ApiLogRow) => r.attempt],
  ['budget_wait_ms', (r: ApiLogRow) => r.budgetWaitMs],
  ['retry_delay_ms', (r: ApiLogRow) => r.retryDelayMs],
  ['duration_ms', (r: ApiLogRow) => r.durationMs],
  ['request_bytes', (r: ApiLogRow) => r.requestBytes],
  ['response_bytes', (r: ApiLogRow) => r.responseBytes],
  ['trace_id', (r: ApiLogRow) => r.traceId],
  ['span_id', (r: ApiLogRow) => r.spanId],
  ['correlation_id', (r: ApiLogRow) => r.correlationId],
  ['call_id', (r: ApiLogRow) => r.callId ?? null],
] as const;

const HEAD = `insert into qbo_api_log (${COLUMNS.map(([name]) => name).join(', ')}) values `;
/** Row `i`'s placeholders, `$1…$23` for the first: the values travel as bound parameters. */
const tuple = (i: number) => `(${COLUMNS.map((_, j) => `$${i * COLUMNS.length + j + 1}`).join(', ')})`;

/** Runs one statement with `$1, $2, …` placeholders, as the service kit's `execute` does. */
export type Execute = (sql: string, params: unknown[]) => Promise<unknown>;

/** Inserts each batch as one multi-row statement into the `qbo_api_log` of the connection's schema. */
export function createSqlApiLogStore(execute: Execute): ApiLogStore {
  return {
    async insert(rows) {
      if (rows.length === 0) return;
      const sql = HEAD + rows.map((_, i) => tuple(i)).join(', ');
      await execute(
        sql,
        rows.flatMap((row) => COLUMNS.map(([, value]) => value(row))),
      );
    },
  };
}

/** The store over the service's MikroORM (opened by service-kit's `openDatabase`, whose search_path is its schema). */
export const mikroOrmApiLogStore = (orm: { em: SqlContext }): ApiLogStore =>
  createSqlApiLogStore((sql, params) => execute(orm.em, sql, params));
