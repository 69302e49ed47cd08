import { Migration } from '@qbo/service-kit';

/**
 * The trace of whoever asked for a company's next sync, kept beside `wanted_at` so the run continues it:
 * `wanted_traceparent` is the asker whose `wanted_reason` stands (the run's parent span), `wanted_links` the
 * others served by the same run (a debounced burst of notifications), bounded. A claim clears both.
 */
class SyncTraceContext extends Migration {
  override up(): void {
    this.addSql(`alter table sync_target add column wanted_traceparent text,
      add column wanted_links text[] not null default '{}'`);
  }
}

export const syncTraceMigration = { name: 'sync-0007-trace-context', class: SyncTraceContext };
