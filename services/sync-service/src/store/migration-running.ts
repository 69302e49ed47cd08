import { Migration } from '@qbo/service-kit';

/** The runs still marked running, found per org when a new run starts (runs.ts, closeAbandonedRuns). */
class SyncRunningRuns extends Migration {
  override up(): void {
    this.addSql(`create index sync_run_running on sync_run (org_id) where status = 'running'`);
  }
}

export const syncRunningMigration = { name: 'sync-0006-running-runs', class: SyncRunningRuns };
