import { execute, query, type SqlContext } from '@qbo/service-kit';
import type { EntityChange } from '../domain/notification.js';

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

export function createParkedChanges(db: SqlContext): ParkedChanges {
  return {
    async add(changes, receivedAt) {
      if (changes.length === 0) return;
      // Rows in the order given: `with ordinality` keeps the array order for the identity ids.
      await execute(
        db,
        `insert into parked_change (realm_id, notification_id, change, received_at)
         select realm_id, notification_id, change, $4::timestamptz
         from unnest($1::text[], $2::text[], $3::jsonb[]) with ordinality as c(realm_id, notification_id, change, n)
         order by n`,
        [
          changes.map((c) => c.realmId),
          changes.map((c) => c.eventId),
          changes.map((c) => JSON.stringify(c)),
          receivedAt,
        ],
      );
    },
    async pending(realmId) {
      const rows = await query<{
        id: string | number;
        change: EntityChange | string;
        received_at: Date | string;
      }>(
        db,
        'select id, change, received_at from parked_change where realm_id = $1 and replayed_at is null order by id',
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
      await execute(db, 'update parked_change set replayed_at = now() where id = any($1::bigint[])', [ids]);
    },
  };
}
