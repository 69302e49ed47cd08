import { execute, query, type SqlContext } from '@qbo/service-kit';
import type { EntityChange } from '../domain/notification.js';

export interface ParkedChange {
  id: string;
  change: EntityChange;
  receivedAt: string;
}

/**
 * Changes of realms that no org has connected (yet), kept for a bounded time: replayed to an org that connects
 * the realm soon enough, pruned after.
 */
export interface ParkedChanges {
  add(changes: readonly EntityChange[], receivedAt: string): Promise<void>;
  /** The realm's changes received at or after `since` (ISO-8601) and not replayed yet, oldest first. */
  pending(realmId: string, since: string): Promise<ParkedChange[]>;
  markReplayed(ids: readonly string[]): Promise<void>;
  /** Forgets every change received before `before` (ISO-8601), replayed or not. */
  prune(before: string): Promise<void>;
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
    async pending(realmId, since) {
      const rows = await query<{
        id: string | number;
        change: EntityChange | string;
        received_at: Date | string;
      }>(
        db,
        `select id, change, received_at from parked_change
         where realm_id = $1 and replayed_at is null and received_at >= $2::timestamptz order by id`,
        [realmId, since],
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
    async prune(before) {
      await execute(db, 'delete from parked_change where received_at < $1::timestamptz', [before]);
    },
  };
}
