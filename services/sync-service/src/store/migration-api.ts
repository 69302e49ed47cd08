import { Migration } from '@qbo/service-kit';

/**
 * What the API controls per company: a pause (no claim, no call to Intuit while set; notifications are still
 * recorded) and the company's own sync interval, when it has one (else `SYNC_INTERVAL_MS`).
 */
class SyncApiControls extends Migration {
  override up(): void {
    this.addSql('alter table sync_target add column paused_at timestamptz');
    this.addSql('alter table sync_target add column interval_ms bigint check (interval_ms > 0)');
    // Runs are listed per org newest first, and read by their connection.
    this.addSql('create index sync_run_org_started on sync_run (org_id, started_at desc, run_id desc)');
    this.addSql('create index sync_run_started on sync_run (started_at desc, run_id desc)');
  }
}

export const syncApiMigration = { name: 'sync-0004-api-controls', class: SyncApiControls };
