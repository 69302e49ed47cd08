import { Migration } from '@qbo/service-kit';

/**
 * The outbox and inbox tables. A service appends these entries to its own migration list, so the tables
 * live in the service's schema beside the state they are written with:
 *   migrations: [...eventBusMigrations, ...own]
 */
class OutboxAndInbox extends Migration {
  override up(): void {
    this.addSql(`create table outbox (
      seq bigint generated always as identity primary key,
      event_id uuid not null,
      topic text not null,
      key text not null,
      type text not null,
      version int not null,
      payload json not null,
      traceparent text,
      tracestate text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    )`);
    // json, not jsonb: the relay sends the text exactly as written, and the insert need not re-encode it.
    // The relay reads only unsent rows; a partial index keeps that cheap however many sent rows remain.
    this.addSql('create index outbox_unsent on outbox (seq) where sent_at is null');
    this.addSql(`create table inbox (
      consumer_group text not null,
      event_id uuid not null,
      processed_at timestamptz not null default now(),
      primary key (consumer_group, event_id)
    )`);
    this.addSql('create index inbox_processed_at on inbox (processed_at)');
  }
}

/**
 * Rows of the change feed: message headers computed when the event is written (so the relay sends them as
 * they are), and state-topic tombstones, which have a key and no value, type or version.
 */
class OutboxHeadersAndTombstones extends Migration {
  override up(): void {
    this.addSql('alter table outbox add column headers json');
    this.addSql(`alter table outbox
      alter column payload drop not null,
      alter column type drop not null,
      alter column version drop not null`);
    this.addSql(`alter table outbox add constraint outbox_tombstone_shape
      check ((payload is null) = (type is null) and (type is null) = (version is null))`);
  }
}

export const eventBusMigrations = [
  { name: 'event-bus-0001-outbox-inbox', class: OutboxAndInbox },
  { name: 'event-bus-0002-outbox-headers-tombstones', class: OutboxHeadersAndTombstones },
];
