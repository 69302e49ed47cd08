import {
  cdcRows,
  instant,
  lastUpdated,
  movingWindow,
  NAME_LISTS,
  PeerClient,
  PeerStore,
  type PeerStrategy,
  qboTime,
  rowsOf,
} from './peer-http.js';

const PAGE = 1000;
const CDC_CAP = 1000;

/**
 * singer-io/tap-quickbooks, as ../shared/docs/peers.md §1 and §3.2 describe it: one thread, streams one after
 * another; per stream a bookmark on `MetaData.LastUpdatedTime` queried `>= bookmark [AND Active IN (true,false)]
 * ORDER BY MetaData.LastUpdatedTime ASC STARTPOSITION n MAXRESULTS 1000` for the whole run, the bookmark written
 * after every page; a proactive 495 requests/60 s limiter, and 429/4xx/5xx retried 3 times after a constant 60 s.
 * The `deleted_objects` stream reads `/cdc` for all entities in one call (one call per entity when the answer
 * holds ≥1,000 objects), emits only `status == Deleted`, and moves its bookmark only when it found deletions. Its
 * bookmark starts at the first run (a start date older than CDC's 30 days is refused by Intuit). The v2.4.0
 * `/batch` multiplexing is not modelled: it saves calls only when many entity types are polled per round.
 */
export async function singer(
  sim: Parameters<typeof PeerClient.open>[0],
  realmId: string,
  opts: { startMs: number; now: () => Promise<number>; backoffScale: number },
): Promise<PeerStrategy> {
  const client = await PeerClient.open(sim, realmId, movingWindow(495, 60_000), {
    delay: (attempt, status) =>
      status >= 400 && attempt < 3 ? 60_000 * (status === 429 ? 1 : opts.backoffScale) : undefined,
  });
  const store = new PeerStore();
  const bookmarks = new Map<string, string>();
  let deletedBookmark: string | undefined;

  const stream = async (entity: string) => {
    const bookmark = bookmarks.get(entity) ?? qboTime(opts.startMs);
    const active = NAME_LISTS.has(entity) ? ' AND Active IN (true, false)' : '';
    for (let position = 1; ; position += PAGE) {
      const rows = rowsOf(
        await client.query(
          `SELECT * FROM ${entity} WHERE MetaData.LastUpdatedTime >= '${bookmark}'${active} ` +
            `ORDER BY MetaData.LastUpdatedTime ASC STARTPOSITION ${position} MAXRESULTS ${PAGE}`,
        ),
        entity,
      );
      for (const row of rows) store.upsert(entity, row);
      const last = rows.at(-1);
      if (last) bookmarks.set(entity, lastUpdated(last));
      if (rows.length < PAGE) return;
    }
  };

  const deletedObjects = async (entities: readonly string[]) => {
    const since = deletedBookmark as string;
    const cdc = async (names: readonly string[]) =>
      cdcRows(await client.get(`cdc?entities=${names.join(',')}&changedSince=${encodeURIComponent(since)}`));
    let objects = await cdc(entities);
    if (objects.length >= CDC_CAP) {
      objects = [];
      for (const entity of entities) objects.push(...(await cdc([entity])));
    }
    let max = since;
    for (const [entity, row] of objects) {
      if (row.status !== 'Deleted') continue;
      store.remove(entity, String(row.Id));
      const at = lastUpdated(row);
      if (at && instant(at) > instant(max)) max = at;
    }
    deletedBookmark = max;
  };

  const run = async (entities: readonly string[]) => {
    const startedAt = await opts.now();
    for (const entity of entities) await stream(entity);
    if (deletedBookmark === undefined) deletedBookmark = qboTime(startedAt);
    else await deletedObjects(entities);
  };

  return {
    name: 'Singer',
    client,
    store,
    initial: async (entities) => {
      bookmarks.clear();
      store.rows.clear();
      deletedBookmark = undefined;
      await run(entities);
    },
    incremental: run,
  };
}
