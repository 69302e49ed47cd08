import { eventBusMigrations } from '@qbo/event-bus';
import { qboApiLogMigrations } from '@qbo/qbo-client';
import type { DatabaseOptions } from '@qbo/service-kit';
import { Migration } from '@qbo/service-kit';
import { syncApiMigration } from './migration-api.js';
import { syncLifecycleMigration } from './migration-lifecycle.js';
import { syncNamedMigration } from './migration-named.js';
import { syncPushMigration } from './migration-push.js';
import { syncResyncMigration } from './migration-resync.js';
import { syncRunningMigration } from './migration-running.js';
import { syncTraceMigration } from './migration-trace.js';

class SyncState extends Migration {
  override up(): void {
    // One row per company an org has connected: the current connection, whether it may be synced, and the
    // schedule and cursors of its sync. Keyed by (org, realm): a reconnect of the same company resumes from its
    // cursors, and another company of the same org never shares them (ids repeat across companies).
    this.addSql(`create table sync_target (
      org_id text not null,
      realm_id text not null,
      connection_id uuid not null unique,
      status text not null check (status in ('active', 'deactivated', 'disconnected')),
      status_at timestamptz not null,
      entities text[] not null,
      needs_load boolean not null default true,
      load_run_id uuid,
      load_until timestamptz,
      generation int not null default 0,
      load_until_local timestamptz,
      cdc_since timestamptz,
      cdc_since_local timestamptz,
      reconcile_entities text[] not null default '{}',
      schedule_at timestamptz not null default now(),
      wanted_at timestamptz,
      wanted_reason text,
      reconcile_at timestamptz,
      attempts int not null default 0,
      last_error jsonb,
      last_synced_at timestamptz,
      updated_at timestamptz not null default now(),
      primary key (org_id, realm_id)
    )`);
    this.addSql(
      `create index sync_target_due on sync_target ((least(schedule_at, coalesce(wanted_at, schedule_at)))) where status = 'active'`,
    );
    // The one-writer-per-org lease (ARCHITECTURE §5). The fencing token only ever grows: a release ends the
    // lease but keeps the row, so the next holder's token is still higher than any stale holder's.
    this.addSql(`create table qbo_sync_sessions (
      org_id text primary key,
      holder text not null,
      fencing_token bigint not null,
      expires_at timestamptz not null,
      heartbeat_at timestamptz not null
    )`);
    // The per-org sequence of the change log, assigned in the writing transaction under the lease.
    this.addSql('create table org_seq (org_id text primary key, last_seq bigint not null)');
    this.addSql(`create table load_checkpoint (
      org_id text not null,
      realm_id text not null,
      entity text not null,
      cursor_at timestamptz,
      done boolean not null default false,
      primary key (org_id, realm_id, entity)
    )`);
    this.addSql(`create table mirror_record (
      org_id text not null,
      realm_id text not null,
      entity text not null,
      entity_id text not null,
      connection_id uuid not null,
      payload jsonb not null,
      sync_token text,
      last_updated timestamptz,
      active boolean,
      voided boolean not null default false,
      content_hash text not null,
      deleted_at timestamptz,
      delete_reason text,
      merged_into text,
      seq bigint not null,
      updated_at timestamptz not null default now(),
      primary key (org_id, realm_id, entity, entity_id)
    )`);
    this.addSql(
      'create index mirror_record_updated on mirror_record (org_id, realm_id, entity, last_updated) where deleted_at is null',
    );
    this.addSql(`create table sync_run (
      run_id uuid primary key,
      org_id text not null,
      realm_id text not null,
      connection_id uuid not null,
      trigger text not null,
      mode text not null,
      entities text[] not null,
      status text not null check (status in ('running', 'completed', 'failed')),
      generation int,
      pages int not null default 0,
      upserted int not null default 0,
      deleted int not null default 0,
      unchanged int not null default 0,
      api_calls int not null default 0,
      estimate_total int,
      error jsonb,
      started_at timestamptz not null default now(),
      finished_at timestamptz
    )`);
    this.addSql('create index sync_run_target on sync_run (org_id, realm_id, started_at desc)');
    // The newest change Intuit notified per record, so a notification the mirror already holds costs no call,
    // and a merge's survivor is known when CDC reports the merged-away record.
    this.addSql(`create table change_notice (
      org_id text not null,
      realm_id text not null,
      entity text not null,
      entity_id text not null,
      operation text not null,
      last_updated timestamptz not null,
      merged_into text,
      notified_at timestamptz not null default now(),
      primary key (org_id, realm_id, entity, entity_id)
    )`);
  }
}

class SyncErrors extends Migration {
  override up(): void {
    // Records Intuit could not return (a poisoned record), one row each, so a run completes around them and
    // the record stays visible until a later read succeeds. A record whose Id Intuit never showed is keyed by
    // where it sits: its LastUpdatedTime range and position by Id (record_key holds either).
    this.addSql(`create table sync_error (
      org_id text not null,
      realm_id text not null,
      entity text not null,
      record_key text not null,
      entity_id text,
      range_from timestamptz,
      range_to timestamptz,
      position int,
      after_id text,
      category text not null,
      code text not null,
      first_run_id uuid not null,
      last_run_id uuid not null,
      first_seen_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      attempts int not null default 1,
      primary key (org_id, realm_id, entity, record_key)
    )`);
    this.addSql('create index sync_error_run on sync_error (last_run_id)');
  }
}

class SyncOperations extends Migration {
  override up(): void {
    // Errors as data an operator acts on: a stable id to name a row in a command, whether a retry can help,
    // the sentence saying what to do (domain/failure.ts), the Intuit call that last failed (its qbo_api_log
    // rows share this call_id) and, once fixed, when and how; a fixed row is closed, never deleted. A run's
    // own failure is a row too (kind 'run', keyed by its code), closed by the next run that completes.
    // retried_at: the last retry by command, so a burst of retries of one record costs one call.
    this.addSql(`alter table sync_error
      add column error_id uuid not null default gen_random_uuid() unique,
      add column kind text not null default 'record' check (kind in ('record', 'run')),
      add column retryable boolean not null default true,
      add column remediation text,
      add column api_call_id uuid,
      add column resolved_at timestamptz,
      add column resolved_by text check (resolved_by in ('read', 'retry', 'moved', 'run_completed')),
      add column resolved_run_id uuid,
      add column retried_at timestamptz`);
    this.addSql(
      'create index sync_error_open_record on sync_error (org_id, realm_id, entity, entity_id) where resolved_at is null',
    );
    this.addSql('create index sync_error_first_run on sync_error (first_run_id)');
    // What each run did per entity, written with the pages it counts; the calls behind a row are the run's
    // qbo_api_log rows (correlation_id = run_id) of that entity_type. `*` holds multi-entity CDC calls.
    this.addSql(`create table sync_run_entity (
      run_id uuid not null,
      entity text not null,
      pages int not null default 0,
      upserted int not null default 0,
      deleted int not null default 0,
      unchanged int not null default 0,
      failures int not null default 0,
      api_calls int not null default 0,
      primary key (run_id, entity)
    )`);
    // Retries asked for by command, done by the worker under the org's lease; a row per command.
    this.addSql(`create table sync_retry (
      command_id uuid primary key,
      org_id text not null,
      realm_id text not null,
      connection_id uuid not null,
      error_id uuid,
      run_id uuid,
      requested_at timestamptz not null default now(),
      done_at timestamptz
    )`);
    this.addSql(
      'create index sync_retry_pending on sync_retry (org_id, realm_id, requested_at) where done_at is null',
    );
  }
}

export const migrations: DatabaseOptions['migrations'] = [
  ...eventBusMigrations,
  // The client's log of every call to Intuit, which the service writes through mikroOrmApiLogStore.
  ...qboApiLogMigrations,
  { name: 'sync-0001-state', class: SyncState },
  { name: 'sync-0002-errors', class: SyncErrors },
  { name: 'sync-0003-operations', class: SyncOperations },
  syncApiMigration,
  syncResyncMigration,
  syncRunningMigration,
  syncTraceMigration,
  syncPushMigration,
  syncLifecycleMigration,
  syncNamedMigration,
];
