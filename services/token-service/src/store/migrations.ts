import { eventBusMigrations } from '@qbo/event-bus';
import type { DatabaseOptions } from '@qbo/service-kit';
import { Migration } from '@qbo/service-kit';

class Vault extends Migration {
  override up(): void {
    // One row per connection. Token columns hold sealed values only (AES-256-GCM under the connection's data
    // key, associated data = connection|field|version); every other column is safe to show an operator.
    this.addSql(`create table credential (
      connection_id text primary key,
      org_id text not null,
      realm_id text not null,
      environment text not null,
      scopes jsonb not null,
      status text not null check (status in ('active', 'degraded', 'deactivated', 'disconnected')),
      credential_version int not null,
      access_token_sealed text,
      refresh_token_sealed text,
      last_good_refresh_token_sealed text,
      access_token_expires_at timestamptz,
      refresh_token_expires_at timestamptz,
      refresh_token_hard_expires_at timestamptz,
      grant_created_at timestamptz not null,
      last_refreshed_at timestamptz,
      next_refresh_at timestamptz,
      last_used_at timestamptz,
      degraded_since timestamptz,
      attempts int not null default 0,
      last_error_code text,
      deactivation_reason text,
      reconnect_soon_sent_at timestamptz,
      updated_at timestamptz not null default now()
    )`);
    this.addSql(
      `create index credential_due on credential (next_refresh_at) where status in ('active', 'degraded')`,
    );
    // The per-connection data key, sealed by the key ring's active key-encryption key. Deleting the row
    // crypto-shreds every token value sealed under it, copies in backups included.
    this.addSql(`create table data_key (
      connection_id text primary key references credential (connection_id),
      sealed_key text not null,
      created_at timestamptz not null default now()
    )`);
    // Refreshing is paused for an app whose credentials Intuit rejected; keyed by a fingerprint of those
    // credentials, so deploying corrected ones resumes it without touching the database.
    this.addSql(`create table app_pause (
      client_fingerprint text primary key,
      error_code text not null,
      paused_at timestamptz not null
    )`);
  }
}

/**
 * The disconnect consumer's inbox records, under the consumer's name since consumer groups follow one naming
 * rule (`<service>.<consumer>`): the renamed group rereads the topic, and its inbox must still know what the
 * old group did.
 */
class InboxGroupName extends Migration {
  override up(): void {
    this.addSql(`update inbox set consumer_group = 'disconnect' where consumer_group = 'token-service'`);
  }
}

/**
 * Least privilege at the edges of the vault: when a connection was last force-refreshed (the throttle of
 * compare-and-refresh), a pause of the app that is probed and lifted by itself, and a shred whose revoke at
 * Intuit failed, kept (refresh token only) and retried instead of being final.
 */
class Guards extends Migration {
  override up(): void {
    this.addSql('alter table credential add column forced_refresh_at timestamptz');
    this.addSql('alter table credential add column revoke_pending_since timestamptz');
    this.addSql('alter table credential add column revoke_attempts int not null default 0');
    this.addSql('alter table credential add column next_revoke_at timestamptz');
    this.addSql(
      'create index credential_revoke_due on credential (next_revoke_at) where next_revoke_at is not null',
    );
    // A pause from before this migration is probed at once: it may have come from a single 401.
    this.addSql('alter table app_pause add column probe_at timestamptz');
  }
}

/** Applied in order at start-up into the `token` schema; append, never edit a released entry. */
export const migrations: DatabaseOptions['migrations'] = [
  ...eventBusMigrations,
  { name: 'token-0001-vault', class: Vault },
  { name: 'token-0002-inbox-group-name', class: InboxGroupName },
  { name: 'token-0003-guards', class: Guards },
];
