import { execute, query, type SqlContext } from '@qbo/service-kit';

export interface RealmLink {
  realmId: string;
  orgId: string;
  connectionId: string;
}

/** The realm → org projection: which org a QuickBooks company's changes belong to. */
export interface RealmOrgs {
  /** The orgs of the given realms that are connected now; absent realms are unknown. */
  lookup(realmIds: readonly string[]): Promise<Map<string, string>>;
  link(link: RealmLink): Promise<void>;
  /** Only the connection that is linked is unlinked: an older disconnect must not undo a newer connect. */
  unlink(realmId: string, connectionId: string): Promise<void>;
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
    async link({ realmId, orgId, connectionId }) {
      await execute(
        db,
        `insert into realm_org (realm_id, org_id, connection_id, active) values ($1, $2, $3, true)
         on conflict (realm_id) do update set org_id = excluded.org_id, connection_id = excluded.connection_id,
           active = true, updated_at = now()`,
        [realmId, orgId, connectionId],
      );
    },
    async unlink(realmId, connectionId) {
      await execute(
        db,
        'update realm_org set active = false, updated_at = now() where realm_id = $1 and connection_id = $2',
        [realmId, connectionId],
      );
    },
    async isEmpty() {
      const rows = await query(db, 'select 1 from realm_org limit 1');
      return rows.length === 0;
    },
  };
}
