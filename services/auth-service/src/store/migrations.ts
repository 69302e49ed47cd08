import { eventBusMigrations } from '@qbo/event-bus';
import type { DatabaseOptions } from '@qbo/service-kit';
import { Migration } from '@qbo/service-kit';

class StatesAndConnections extends Migration {
  override up(): void {
    // A connect attempt: only hashes of the state and of the browser nonce, never the values themselves.
    this.addSql(`create table oauth_state (
      state_hash text primary key,
      org_id text not null,
      user_id text,
      nonce_hash text not null,
      return_to text not null,
      sealed_code_verifier text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    )`);
    this.addSql('create index oauth_state_expires_at on oauth_state (expires_at)');
    // A connection is one grant's life from connect to disconnect: a reconnect of a live (even deactivated)
    // connection keeps its id; a connect after a disconnect starts a new one, so a ConnectionDisconnected still
    // on its way to the token-service can only shred the old connection's credentials.
    this.addSql(`create table connection (
      id uuid primary key,
      org_id text not null,
      realm_id text not null,
      environment text not null,
      status text not null check (status in ('active', 'degraded', 'deactivated', 'disconnected')),
      scopes jsonb not null,
      connected_at timestamptz not null,
      connected_by text,
      granted_at timestamptz not null,
      deactivation_reason text,
      last_sync_at timestamptz,
      disconnected_at timestamptz,
      revoked_at_intuit boolean,
      updated_at timestamptz not null default now()
    )`);
    this.addSql(
      `create unique index connection_live on connection (org_id, realm_id) where status <> 'disconnected'`,
    );
    // One active owner per realm: a second org cannot hold it until the owner disconnects.
    this.addSql(
      `create unique index connection_realm_owner on connection (realm_id) where status <> 'disconnected'`,
    );
  }
}

/** Applied in order at start-up into the `auth` schema; append, never edit a released entry. */
export const migrations: DatabaseOptions['migrations'] = [
  ...eventBusMigrations,
  { name: 'auth-0001-states-connections', class: StatesAndConnections },
];
