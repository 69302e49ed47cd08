import { execute, query, type SqlContext } from '@qbo/service-kit';

export interface RealmLink {
  realmId: string;
  orgId: string;
  connectionId: string;
  /** The connection event's time (`connectedAt`, `reauthorizedAt`): the link it names holds from then. */
  at: string;
}

/** The realm → org projection: which org a QuickBooks company's changes belong to. */
export interface RealmOrgs {
  /** The orgs of the given realms that are connected now; absent realms are unknown. */
  lookup(realmIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Links the realm unless the store already reflects a later connection event of it (an older event, read
   * late from another org's partition, never re-points a realm). True when the link is now the realm's.
   */
  link(link: RealmLink): Promise<boolean>;
  /**
   * Only the connection that is linked is unlinked, and only by a disconnect not older than its link: an older
   * disconnect must not undo a newer connect.
   */
  unlink(realmId: string, connectionId: string, at: string): Promise<void>;
  isEmpty(): Promise<boolean>;
}

export function createRealmOrgs(db: SqlContext): RealmOrgs {
  return {
    async lookup(realmIds) {
      if (realmIds.length === 0) return new Map();
      const rows = await query<{ realm_id: string; org_id: string }>(
        db,
        'select realm_id, org_id from realm_org where active and realm_id = any($1::text[])',
        [realmIds],
      );
      return new Map(rows.map((r) => [r.realm_id, r.org_id]));
    },
    async link({ realmId, orgId, connectionId, at }) {
      // A redelivery of the event the row reflects (same time, same connection) applies again, harmlessly.
      const applied = await execute(
        db,
        `insert into realm_org (realm_id, org_id, connection_id, active, changed_at)
         values ($1, $2, $3, true, $4::timestamptz)
         on conflict (realm_id) do update set org_id = excluded.org_id, connection_id = excluded.connection_id,
           active = true, changed_at = excluded.changed_at, updated_at = now()
         where realm_org.changed_at < excluded.changed_at
           or (realm_org.changed_at = excluded.changed_at and realm_org.connection_id = excluded.connection_id
               and realm_org.org_id = excluded.org_id and realm_org.active)`,
        [realmId, orgId, connectionId, at],
      );
      return applied > 0;
    },
    async unlink(realmId, connectionId, at) {
      await execute(
        db,
        `update realm_org set active = false, changed_at = $3::timestamptz, updated_at = now()
         where realm_id = $1 and connection_id = $2 and changed_at <= $3::timestamptz`,
        [realmId, connectionId, at],
      );
    },
    async isEmpty() {
      const rows = await query(db, 'select 1 from realm_org limit 1');
      return rows.length === 0;
    },
  };
}
