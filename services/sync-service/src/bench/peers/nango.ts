import {
  cdcRows,
  instant,
  lastUpdated,
  PeerClient,
  PeerStore,
  type PeerStrategy,
  qboTime,
  rowsOf,
} from './peer-http.js';

const DAY = 86_400_000;
const PAGE = 100;

/**
 * Nango's QuickBooks sync templates (NangoHQ/integration-templates `integrations/quickbooks/syncs/*`), as
 * ../shared/docs/peers.md §1 and §2.4 describe them: one independent sync per entity, all started at once with no
 * per-realm cap; checkpoint `updated_after` = the largest `MetaData.LastUpdatedTime` of the records saved, written
 * only after the loop; when it is younger than 29 days one `/cdc?entities=X&changedSince=…` call (the 1,000-object
 * cap not handled), otherwise `SELECT * … WHERE MetaData.LastUpdatedTime > '…' STARTPOSITION n MAXRESULTS 100`
 * without ORDER BY; inactive name-list records and `Deleted`/`Voided` objects become soft deletes, and deleted
 * stubs do not move the checkpoint; retries are opt-in (`retries: 10` on queries, 3 on CDC) at 3 s·2ⁿ.
 */
export async function nango(
  sim: Parameters<typeof PeerClient.open>[0],
  realmId: string,
  opts: { now: () => Promise<number>; backoffScale: number },
): Promise<PeerStrategy> {
  const retries = (n: number) => ({
    delay: (attempt: number, status: number) =>
      (status === 429 || status >= 500) && attempt < n
        ? Math.min(600_000, 3_000 * 2 ** attempt) * (status === 429 ? 1 : opts.backoffScale)
        : undefined,
  });
  const client = await PeerClient.open(sim, realmId, undefined, retries(10));
  const store = new PeerStore();
  const checkpoints = new Map<string, string>();

  const save = (entity: string, row: Record<string, unknown>) => {
    const status = row.status;
    if (status === 'Deleted' || status === 'Voided' || row.Active === false)
      store.remove(entity, String(row.Id));
    else store.upsert(entity, row);
  };

  const syncEntity = async (entity: string, now: number) => {
    const checkpoint = checkpoints.get(entity);
    let max = checkpoint;
    const seen = (row: Record<string, unknown>) => {
      if (row.status === 'Deleted') return;
      const at = lastUpdated(row);
      if (at && (max === undefined || instant(at) > instant(max))) max = at;
    };
    if (checkpoint !== undefined && now - instant(checkpoint) < 29 * DAY) {
      const body = await client.get(
        `cdc?entities=${entity}&changedSince=${encodeURIComponent(qboTime(instant(checkpoint)))}`,
        retries(3),
      );
      for (const [name, row] of cdcRows(body)) {
        save(name, row);
        seen(row);
      }
    } else {
      const where = checkpoint === undefined ? '' : ` WHERE MetaData.LastUpdatedTime > '${checkpoint}'`;
      for (let position = 1; ; position += PAGE) {
        const rows = rowsOf(
          await client.query(`SELECT * FROM ${entity}${where} STARTPOSITION ${position} MAXRESULTS ${PAGE}`),
          entity,
        );
        for (const row of rows) {
          save(entity, row);
          seen(row);
        }
        if (rows.length < PAGE) break;
      }
    }
    if (max !== undefined) checkpoints.set(entity, max);
  };

  const run = async (entities: readonly string[]) => {
    const now = await opts.now();
    await Promise.all(entities.map((entity) => syncEntity(entity, now)));
  };

  return {
    name: 'Nango',
    client,
    store,
    initial: async (entities) => {
      checkpoints.clear();
      store.rows.clear();
      await run(entities);
    },
    incremental: run,
  };
}
