import type { DatabaseOptions } from '@qbo/service-kit';
import { Migration } from '@qbo/service-kit';

class RealmsDedupeParking extends Migration {
  override up(): void {
    // The realm → org projection of connection events; rebuilt from qbo.connections.v1 when empty.
    this.addSql(`create table realm_org (
      realm_id text primary key,
      org_id text not null,
      connection_id text not null,
      active boolean not null,
      updated_at timestamptz not null default now()
    )`);
    // The consumer group that feeds the projection, born with it: an empty store (new or wiped database)
    // gets a new group, which reads qbo.connections.v1 from the beginning and so rebuilds the projection.
    this.addSql(`create table projection_group (
      name text primary key,
      group_id text not null
    )`);
    // Event ids whose changes Kafka acknowledged: Intuit redelivers, and a redelivery must not fan out twice.
    this.addSql(`create table seen_event (
      event_id text primary key,
      seen_at timestamptz not null default now()
    )`);
    this.addSql('create index seen_event_seen_at on seen_event (seen_at)');
    // Changes of realms no org has connected yet, replayed when the connection event arrives.
    this.addSql(`create table parked_change (
      id bigint generated always as identity primary key,
      realm_id text not null,
      notification_id text not null,
      change jsonb not null,
      received_at timestamptz not null,
      replayed_at timestamptz
    )`);
    this.addSql(
      'create index parked_change_pending on parked_change (realm_id, id) where replayed_at is null',
    );
  }
}

class KeptEntriesOrderedLinks extends Migration {
  override up(): void {
    // What a signed delivery carried that is not published: a malformed entry of a batch, an entry too old to
    // tell from a replay, a body too large for a Kafka message. Kept for inspection; one row per body and reason,
    // however often it is sent.
    this.addSql(`create table kept_entry (
      id bigint generated always as identity primary key,
      reason text not null,
      detail text not null,
      realm_id text,
      event_id text,
      body bytea not null,
      body_sha256 bytea not null,
      received_at timestamptz not null,
      unique (reason, body_sha256)
    )`);
    // The time of the connection event a link reflects: an older event never overwrites a newer link, whatever
    // order the partitions of qbo.connections.v1 are read in. Existing rows count as older than any event.
    this.addSql("alter table realm_org add column changed_at timestamptz not null default '-infinity'");
    this.addSql('create index parked_change_received_at on parked_change (received_at)');
  }
}

/** Applied in order at start-up into the `webhook` schema; append, never edit a released entry. */
export const migrations: DatabaseOptions['migrations'] = [
  { name: 'webhook-0001-realms-dedupe-parking', class: RealmsDedupeParking },
  { name: 'webhook-0002-kept-entries-ordered-links', class: KeptEntriesOrderedLinks },
];
