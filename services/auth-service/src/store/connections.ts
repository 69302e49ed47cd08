import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, query } from '@qbo/service-kit';
import type { ConnectionStatus } from '../domain/status.js';

export interface Connection {
  id: string;
  orgId: string;
  realmId: string;
  environment: 'sandbox' | 'production';
  status: ConnectionStatus;
  scopes: string[];
  connectedAt: Date;
  connectedBy: string | null;
  grantedAt: Date;
  deactivationReason: string | null;
  lastSyncAt: Date | null;
  disconnectedAt: Date | null;
}

interface Row {
  id: string;
  org_id: string;
  realm_id: string;
  environment: 'sandbox' | 'production';
  status: ConnectionStatus;
  scopes: string[] | string;
  connected_at: Date | string;
  connected_by: string | null;
  granted_at: Date | string;
  deactivation_reason: string | null;
  last_sync_at: Date | string | null;
  disconnected_at: Date | string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

const toConnection = (r: Row): Connection => ({
  id: r.id,
  orgId: r.org_id,
  realmId: r.realm_id,
  environment: r.environment,
  status: r.status,
  scopes: typeof r.scopes === 'string' ? (JSON.parse(r.scopes) as string[]) : r.scopes,
  connectedAt: new Date(r.connected_at),
  connectedBy: r.connected_by,
  grantedAt: new Date(r.granted_at),
  deactivationReason: r.deactivation_reason,
  lastSyncAt: date(r.last_sync_at),
  disconnectedAt: date(r.disconnected_at),
});

export interface GrantRecord {
  id: string;
  orgId: string;
  realmId: string;
  environment: 'sandbox' | 'production';
  scopes: readonly string[];
  connectedBy: string | null;
  at: Date;
}

/** A reconnect whose connection was disconnected between the callback's read and its write. */
export class DisconnectedMeanwhile extends AppError {
  constructor(readonly connectionId: string) {
    super(
      'connection_disconnected_meanwhile',
      'The connection was disconnected while it was being renewed. Start the connection again.',
      { status: 409 },
    );
    this.name = 'DisconnectedMeanwhile';
  }
}

export function createConnections(fork: () => EntityManager) {
  return {
    /** The org's live connection to the realm (any status but disconnected), if any. */
    async byOrgAndRealm(orgId: string, realmId: string): Promise<Connection | undefined> {
      const [row] = await query<Row>(
        fork(),
        `select * from connection where org_id = $1 and realm_id = $2 and status <> 'disconnected'`,
        [orgId, realmId],
      );
      return row ? toConnection(row) : undefined;
    },
    /** The org holding the realm now (any status but disconnected), if any. */
    async ownerOfRealm(realmId: string): Promise<string | undefined> {
      const [row] = await query<{ org_id: string }>(
        fork(),
        `select org_id from connection where realm_id = $1 and status <> 'disconnected'`,
        [realmId],
      );
      return row?.org_id;
    },
    async list(orgId: string): Promise<Connection[]> {
      const rows = await query<Row>(
        fork(),
        'select * from connection where org_id = $1 order by connected_at',
        [orgId],
      );
      return rows.map(toConnection);
    },
    /** Scoped by org: another org's id reads as absent. */
    async get(orgId: string, id: string): Promise<Connection | undefined> {
      const [row] = await query<Row>(fork(), 'select * from connection where org_id = $1 and id = $2', [
        orgId,
        id,
      ]);
      return row ? toConnection(row) : undefined;
    },
    async getById(em: EntityManager, id: string, lock = false): Promise<Connection | undefined> {
      const [row] = await query<Row>(
        em,
        `select * from connection where id = $1${lock ? ' for update' : ''}`,
        [id],
      );
      return row ? toConnection(row) : undefined;
    },
    /**
     * Records a fresh grant in the caller's transaction. Returns the status the row had before (undefined for a
     * new connection). The partial unique index refuses a realm another org holds, even in a race. A row
     * disconnected since the callback read it stays disconnected (DisconnectedMeanwhile): its
     * ConnectionDisconnected is on its way to the token-service and would shred the new grant.
     */
    async recordGrant(em: EntityManager, g: GrantRecord): Promise<ConnectionStatus | undefined> {
      const [before] = await query<{ status: ConnectionStatus }>(
        em,
        'select status from connection where id = $1 for update',
        [g.id],
      );
      const written = await query<{ id: string }>(
        em,
        `insert into connection
           (id, org_id, realm_id, environment, status, scopes, connected_at, connected_by, granted_at)
         values ($1, $2, $3, $4, 'active', $5::jsonb, $6, $7, $8)
         on conflict (id) do update set status = 'active', environment = excluded.environment,
           connected_by = excluded.connected_by,
           scopes = excluded.scopes, granted_at = excluded.granted_at, deactivation_reason = null,
           disconnected_at = null, revoked_at_intuit = null, updated_at = now()
         where connection.status <> 'disconnected'
         returning id`,
        [
          g.id,
          g.orgId,
          g.realmId,
          g.environment,
          JSON.stringify(g.scopes),
          g.at.toISOString(),
          g.connectedBy,
          g.at.toISOString(),
        ],
      );
      if (written.length === 0) throw new DisconnectedMeanwhile(g.id);
      return before?.status;
    },
    async markDisconnected(em: EntityManager, id: string, at: Date, revokedAtIntuit: boolean): Promise<void> {
      await query(
        em,
        `update connection set status = 'disconnected', disconnected_at = $1, revoked_at_intuit = $2,
           updated_at = now() where id = $3`,
        [at.toISOString(), revokedAtIntuit, id],
      );
    },
    /** Later of the known and the reported time: sync runs may report out of order. */
    async recordSync(em: EntityManager, id: string, orgId: string, completedAt: Date): Promise<void> {
      await query(
        em,
        `update connection set last_sync_at = greatest(coalesce(last_sync_at, $1::timestamptz), $2::timestamptz)
         where id = $3 and org_id = $4`,
        [completedAt.toISOString(), completedAt.toISOString(), id, orgId],
      );
    },
    async setStatus(
      em: EntityManager,
      id: string,
      status: ConnectionStatus,
      deactivationReason: string | null,
    ): Promise<void> {
      await query(
        em,
        'update connection set status = $1, deactivation_reason = $2, updated_at = now() where id = $3',
        [status, deactivationReason, id],
      );
    },
  };
}

export type Connections = ReturnType<typeof createConnections>;
