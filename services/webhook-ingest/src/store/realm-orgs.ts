import { placeholders, type Sql } from './sql.js';

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

export function createRealmOrgs(sql: Sql): RealmOrgs {
  return {
    async lookup(realmIds) {
      if (realmIds.length === 0) return new Map();
      const rows = await sql<{ realm_id: string; org_id: string }>(
        `select realm_id, org_id from realm_org where active and realm_id in (${placeholders(realmIds.length)})`,
        realmIds,
      );
      return new Map(rows.map((r) => [r.realm_id, r.org_id]));
    },
    async link({ realmId, orgId, connectionId }) {
      await sql(
        `insert into realm_org (realm_id, org_id, connection_id, active) values (?, ?, ?, true)
         on conflict (realm_id) do update set org_id = excluded.org_id, connection_id = excluded.connection_id,
           active = true, updated_at = now()`,
        [realmId, orgId, connectionId],
      );
    },
    async unlink(realmId, connectionId) {
      await sql(
        'update realm_org set active = false, updated_at = now() where realm_id = ? and connection_id = ?',
        [realmId, connectionId],
      );
    },
    async isEmpty() {
      const rows = await sql('select 1 from realm_org limit 1');
      return rows.length === 0;
    },
  };
}
