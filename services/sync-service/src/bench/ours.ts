// Ours in the strategies bench: the sync-service process as it ships.
import { waitFor } from '@qbo/testkit';
import { newOrg, type SyncStack } from '../testing/sync-stack.js';
import { compareStore, type Problems } from './peers/peer-http.js';

/**
 * Ours runs with the settings it ships with where they decide what it reads: the tests' cursor margin of 0 would
 * make it miss a change Intuit stamps a moment before its read, which the production margin (60 s) is there for.
 */
export const OURS_ENV = { SYNC_CURSOR_MARGIN_MS: '60000' };

/**
 * Ours: a connected org whose syncs the bench asks for and waits on, whose mirror it compares. A sync is over when
 * everything it set off has run: the delta, the reconciliation a delta asks for when it could not see deletes
 * (a cursor past CDC's 30 days, a CDC answer at its cap), the follow-up delta of a load, and the relay.
 */
export class Ours {
  readonly orgId = newOrg();
  connectionId = '';
  constructor(
    readonly stack: SyncStack,
    readonly realmId: string,
    readonly entities: readonly string[],
  ) {}

  async initial(): Promise<void> {
    this.connectionId = await this.stack.connect(this.realmId, this.orgId);
    await this.stack.waitForRun(this.realmId, { mode: 'initial', status: 'completed' }, 3_600_000);
    await this.settled();
  }

  async run(mode: 'incremental' | 'full', during?: () => Promise<void>): Promise<void> {
    const at = new Date(Date.now() - 1);
    await this.stack.requestSync(this.orgId, this.connectionId, mode);
    await during?.();
    // An incremental request runs as a CDC run (or a query run past CDC's reach): the first run completed after it.
    await this.stack.waitForRun(this.realmId, { status: 'completed', after: at }, 600_000);
    await this.settled();
  }

  /** Nothing running, asked for or due (a reconciliation included), and every event published. */
  private async settled(): Promise<void> {
    await waitFor(
      async () =>
        (
          await this.stack.db.query(
            `select 1 from sync.sync_target t where realm_id = $1 and wanted_at is null
               and coalesce(reconcile_at > now(), true)
               and not exists (select 1 from sync.sync_run r where r.realm_id = t.realm_id and r.status = 'running')`,
            [this.realmId],
          )
        ).length > 0,
      { timeoutMs: 600_000, intervalMs: 100, what: `${this.realmId} settled` },
    );
    await this.stack.drained(120_000);
  }

  /** The mirror against the simulator by version (see `versionOf`), as every peer's store is compared. */
  async problems(): Promise<Problems> {
    const rows = await this.stack.db.query<{ entity: string; entity_id: string; version: string }>(
      `select entity, entity_id, (payload->>'SyncToken') || '@' ||
         (extract(epoch from (payload->'MetaData'->>'LastUpdatedTime')::timestamptz) * 1000)::bigint as version
       from sync.mirror_record where realm_id = $1 and deleted_at is null`,
      [this.realmId],
    );
    const mirror = new Map(rows.map((r) => [`${r.entity}/${r.entity_id}`, { version: r.version }]));
    return compareStore(this.stack.sim, this.realmId, this.entities, mirror);
  }
}
