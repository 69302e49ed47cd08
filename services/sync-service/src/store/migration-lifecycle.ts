import { Migration } from '@qbo/service-kit';

/**
 * The data lifecycle. `data_erasure` is the audit of every erasure asked for (who, when, why, what it removed);
 * `data_purge` is one company's purge, due when its disconnect's grace period ends or at once for an erasure,
 * and done in batches by the lifecycle job. A company being erased is `erased` in `sync_target`: never claimed,
 * and every write of a run in flight is refused, so the run stops and releases the org's lease.
 */
class DataLifecycle extends Migration {
  override up(): void {
    this.addSql('alter table sync_target drop constraint sync_target_status_check');
    this.addSql(`alter table sync_target add constraint sync_target_status_check
      check (status in ('active', 'deactivated', 'disconnected', 'erased'))`);
    this.addSql(`create table data_erasure (
      erasure_id uuid primary key,
      org_id text not null,
      connection_id uuid,
      requested_by text not null,
      requested_via text not null check (requested_via in ('api', 'command')),
      reason text,
      requested_at timestamptz not null default now(),
      status text not null default 'pending' check (status in ('pending', 'completed')),
      completed_at timestamptz,
      counts jsonb not null default '{}'
    )`);
    this.addSql(
      `create index data_erasure_pending on data_erasure (org_id, connection_id) where status = 'pending'`,
    );
    this.addSql(`create table data_purge (
      purge_id uuid primary key,
      org_id text not null,
      realm_id text not null,
      connection_id uuid not null,
      reason text not null check (reason in ('grace_expired', 'erasure')),
      erasure_id uuid references data_erasure (erasure_id),
      due_at timestamptz not null,
      status text not null default 'pending' check (status in ('pending', 'running', 'completed', 'cancelled')),
      started_at timestamptz,
      finished_at timestamptz,
      counts jsonb not null default '{}',
      event_id uuid,
      claimed_until timestamptz
    )`);
    this.addSql(`create index data_purge_due on data_purge (due_at) where status in ('pending', 'running')`);
    this.addSql('create index data_purge_erasure on data_purge (erasure_id) where erasure_id is not null');
    // The retention jobs delete by age, oldest first.
    this.addSql('create index qbo_api_log_at on qbo_api_log (at)');
    this.addSql('create index sync_run_finished on sync_run (finished_at) where finished_at is not null');
    this.addSql('create index sync_error_resolved on sync_error (resolved_at) where resolved_at is not null');
    this.addSql('create index sync_run_realm on sync_run (org_id, realm_id)');
  }
}

export const syncLifecycleMigration = { name: 'sync-0009-data-lifecycle', class: DataLifecycle };
