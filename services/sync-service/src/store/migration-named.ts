import { Migration } from '@qbo/service-kit';

/**
 * A record's error row known by its place closes as `named` once the record failed by its Id as well
 * (sync/name-places.ts): one failure then shows as one row, by its Id.
 */
class SyncNamedPlaces extends Migration {
  override up(): void {
    this.addSql(`alter table sync_error drop constraint sync_error_resolved_by_check,
      add constraint sync_error_resolved_by_check
        check (resolved_by in ('read', 'retry', 'moved', 'run_completed', 'named'))`);
  }
}

export const syncNamedMigration = { name: 'sync-0010-named-places', class: SyncNamedPlaces };
