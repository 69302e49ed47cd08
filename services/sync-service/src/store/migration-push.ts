import { Migration } from '@qbo/service-kit';

/**
 * Write-back commands (`UpsertRecord`, `DeleteRecord`), kept per org in arrival order (`position`) until the
 * worker executes them under the org's lease. `call_id` and `bid` are written before a call to Intuit is made,
 * so a call lost with its replica (an answer never committed) is sent again in the same shape and with the same
 * `requestid`, which Intuit replays instead of applying twice; `attempt` moves on only when Intuit answered a
 * failure it did not apply. `result` is the outcome event's data, kept to answer for the command afterwards.
 */
class SyncPush extends Migration {
  override up(): void {
    this.addSql(`create table sync_push (
      command_id uuid primary key,
      position bigserial not null unique,
      org_id text not null,
      realm_id text,
      connection_id uuid not null,
      kind text not null check (kind in ('upsert', 'delete')),
      entity text not null,
      entity_id text,
      sync_token text,
      sparse boolean not null default true,
      void boolean not null default false,
      payload jsonb,
      status text not null default 'pending' check (status in ('pending', 'pushed', 'failed')),
      attempt int not null default 0,
      call_id uuid,
      bid text,
      applied text,
      code text,
      result jsonb,
      received_at timestamptz not null default now(),
      done_at timestamptz
    )`);
    this.addSql(
      `create index sync_push_pending on sync_push (org_id, realm_id, position) where status = 'pending'`,
    );
    this.addSql('create index sync_push_org on sync_push (org_id, received_at desc)');
  }
}

export const syncPushMigration = { name: 'sync-0008-push', class: SyncPush };
