import { Migration } from '@qbo/service-kit';

/**
 * Resyncs of some entities: `load_entities` narrows a pending load to them (null: the whole company), and a
 * mirror row's `generation` is the snapshot generation that last read it, so a snapshot emits each record
 * once and knows at its end which records it did not read.
 */
class SyncEntityResync extends Migration {
  override up(): void {
    this.addSql('alter table sync_target add column load_entities text[]');
    this.addSql('alter table mirror_record add column generation int');
  }
}

export const syncResyncMigration = { name: 'sync-0005-entity-resync', class: SyncEntityResync };
