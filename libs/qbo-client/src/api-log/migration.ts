import { Migration } from '@qbo/service-kit';

/**
 * `qbo_api_log` in the schema of the service that calls Intuit; the service appends
 * `qboApiLogMigrations` to its own migration list. Indexed for the questions asked of it: a realm's recent
 * calls, everything one sync run or trace did.
 */
export class CreateQboApiLog extends Migration {
  override up(): void {
    this.addSql(`create table qbo_api_log (
      id bigint generated always as identity primary key,
      at timestamptz not null,
      org_id text,
      realm_id text not null,
      operation text not null,
      method text not null,
      path text not null,
      query text,
      entity_type text,
      entity_id text,
      status smallint,
      fault_code text,
      category text,
      intuit_tid text,
      attempt smallint not null,
      budget_wait_ms integer not null,
      retry_delay_ms integer not null,
      duration_ms integer not null,
      request_bytes integer not null,
      response_bytes integer,
      trace_id text,
      span_id text,
      correlation_id text
    )`);
    this.addSql('create index qbo_api_log_realm_at on qbo_api_log (realm_id, at desc)');
    this.addSql(
      'create index qbo_api_log_correlation on qbo_api_log (correlation_id) where correlation_id is not null',
    );
    this.addSql('create index qbo_api_log_trace on qbo_api_log (trace_id) where trace_id is not null');
  }

  override down(): void {
    this.addSql('drop table if exists qbo_api_log');
  }
}

export const qboApiLogMigration = { name: '20261125140000_create_qbo_api_log', class: CreateQboApiLog };

/**
 * Each row names the call it belongs to (`call_id`, one id for every attempt of one call), so a caller that
 * keeps a failure as data (a sync error row) can point at the exact requests, their intuit_tid and trace.
 */
export class AddQboApiLogCallId extends Migration {
  override up(): void {
    this.addSql('alter table qbo_api_log add column call_id uuid');
    this.addSql('create index qbo_api_log_call on qbo_api_log (call_id) where call_id is not null');
  }

  override down(): void {
    this.addSql('alter table qbo_api_log drop column if exists call_id');
  }
}

export const qboApiLogCallIdMigration = {
  name: '20261203140000_qbo_api_log_call_id',
  class: AddQboApiLogCallId,
};

/** Every migration of `qbo_api_log`, in order: what a service appends to its own list. */
export const qboApiLogMigrations = [qboApiLogMigration, qboApiLogCallIdMigration] as const;
