import {
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

const DAY = 86_400_000;
const PAGE = 200;
const CONCURRENCY = 4;

/**
 * Airbyte's source-quickbooks (manifest v4.2.0), as ../shared/docs/peers.md §1 and §3.1 describe it: one stream
 * per entity with cursor `MetaData.LastUpdatedTime`, cut into 30-day slices queried `> start AND <= end ORDER BY
 * … ASC` at 200 a page with STARTPOSITION; slices run 4 at a time under a 500-calls/min moving window (PR #85216);
 * 429 and 5xx are retried 5 times with an exponential factor of 5 s; the stream's state is the largest cursor value
 * read, and the next run starts its first slice there. No CDC, so hard deletes are never seen (documented).
 */
export async function airbyte(
  sim: Parameters<typeof PeerClient.open>[0],
  realmId: string,
  opts: { startMs: number; now: () => Promise<number>; backoffScale: number },
): Promise<PeerStrategy> {
  const client = await PeerClient.open(sim, realmId, movingWindow(500, 60_000), {
    delay: (attempt, status) =>
      (status === 429 || status >= 500) && attempt < 5
        ? 5_000 * 2 ** attempt * (status === 429 ? 1 : opts.backoffScale)
        : undefined,
  });
  const store = new PeerStore();
  const state = new Map<string, number>();

  const readSlice = async (entity: string, start: number, end: number) => {
    const active = NAME_LISTS.has(entity) ? ' AND Active IN (true, false)' : '';
    let max = 0;
    for (let position = 1; ; position += PAGE) {
      const body = await client.query(
        `SELECT * FROM ${entity} WHERE MetaData.LastUpdatedTime > '${qboTime(start)}' AND ` +
          `MetaData.LastUpdatedTime <= '${qboTime(end)}'${active} ORDER BY MetaData.LastUpdatedTime ASC ` +
          `STARTPOSITION ${position} MAXRESULTS ${PAGE}`,
      );
      const rows = rowsOf(body, entity);
      for (const row of rows) {
        store.upsert(entity, row);
        max = Math.max(max, instant(lastUpdated(row)));
      }
      if (rows.length < PAGE) return max;
    }
  };

  const run = async (entities: readonly string[]) => {
    const now = await opts.now();
    const slices: { entity: string; start: number; end: number }[] = [];
    for (const entity of entities) {
      for (let start = state.get(entity) ?? opts.startMs; start < now; start += 30 * DAY) {
        slices.push({ entity, start, end: Math.min(now, start + 30 * DAY) });
      }
    }
    const maxima = new Map<string, number>();
    const worker = async () => {
      for (let slice = slices.shift(); slice; slice = slices.shift()) {
        const max = await readSlice(slice.entity, slice.start, slice.end);
        maxima.set(slice.entity, Math.max(maxima.get(slice.entity) ?? 0, max));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const [entity, max] of maxima) if (max > 0) state.set(entity, Math.max(state.get(entity) ?? 0, max));
  };

  return {
    name: 'Airbyte',
    client,
    store,
    initial: async (entities) => {
      state.clear();
      store.rows.clear();
      await run(entities);
    },
    incremental: run,
  };
}
