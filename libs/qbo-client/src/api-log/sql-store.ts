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
] as const;

const HEAD = `insert into qbo_api_log (${COLUMNS.map(([name]) => name).join(', ')}) values `;
const TUPLE = `(${COLUMNS.map(() => '?').join(', ')})`;

/** Runs one statement with `?` placeholders, as MikroORM's `connection.execute(sql, params)` does. */
export type Execute = (sql: string, params: unknown[]) => Promise<unknown>;

/** Inserts each batch as one multi-row statement into the `qbo_api_log` of the connection's schema. */
export function createSqlApiLogStore(execute: Execute): ApiLogStore {
  return {
    async insert(rows) {
      if (rows.length === 0) return;
      const sql = HEAD + rows.map(() => TUPLE).join(', ');
      await execute(
        sql,
        rows.flatMap((row) => COLUMNS.map(([, value]) => value(row))),
      );
    },
  };
}

interface OrmLike {
  em: { getConnection(): { execute(sql: string, params: unknown[], method: 'run'): Promise<unknown> } };
}

/** The store over the service's MikroORM (opened by service-kit's `openDatabase`, whose search_path is its schema). */
export const mikroOrmApiLogStore = (orm: OrmLike): ApiLogStore =>
  createSqlApiLogStore((sql, params) => orm.em.getConnection().execute(sql, params, 'run'));
