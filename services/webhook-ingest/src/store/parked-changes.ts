import type { EntityChange } from '../domain/notification.js';
import { placeholders, type Sql } from './sql.js';

export interface ParkedChange {
  id: string;
  change: EntityChange;
  receivedAt: string;
}

/** Changes of realms that no org has connected (yet), kept until the connection appears. */
export interface ParkedChanges {
  add(changes: readonly EntityChange[], receivedAt: string): Promise<void>;
  pending(realmId: string): Promise<ParkedChange[]>;
  markReplayed(ids: readonly string[]): Promise<void>;
}

export function createParkedChanges(sql: Sql): ParkedChanges {
  return {
    async add(changes, receivedAt) {
      if (changes.length === 0) return;
      await sql(
        `insert into parked_change (realm_id, notification_id, change, received_at) values
         ${changes.map(() => '(?, ?, ?::jsonb, ?)').join(', ')}`,
        changes.flatMap((c) => [c.realmId, c.eventId, JSON.stringify(c), receivedAt]),
      );
    },
    async pending(realmId) {
      const rows = await sql<{
        id: string | number;
        change: EntityChange | string;
        received_at: Date | string;
      }>(
        'select id, change, received_at from parked_change where realm_id = ? and replayed_at is null order by id',
        [realmId],
      );
      return rows.map((r) => ({
        id: String(r.id),
        change: typeof r.change === 'string' ? (JSON.parse(r.change) as EntityChange) : r.change,
        receivedAt: new Date(r.received_at).toISOString(),
      }));
    },
    async markReplayed(ids) {
      if (ids.length === 0) return;
      await sql(
        `update parked_change set replayed_at = now() where id in (${placeholders(ids.length)})`,
        ids,
      );
    },
  };
}
