import type { RealmOrgs } from '../store/realm-orgs.js';
import type { SeenEvents } from '../store/seen-events.js';
import { createBatcher } from './batcher.js';

const MAX_ITEMS = 200;

/** The projection's lookups of concurrent deliveries, one query per batch. */
export function batchRealmOrgs(realms: RealmOrgs): RealmOrgs {
  const lookup = createBatcher<readonly string[], Map<string, string>>({
    maxItems: MAX_ITEMS,
    run: async (lists) => {
      const all = await realms.lookup([...new Set(lists.flat())]);
      return lists.map(
        (ids) => new Map(ids.flatMap((id) => (all.has(id) ? [[id, all.get(id) as string]] : []))),
      );
    },
  });
  return { ...realms, lookup: (ids) => (ids.length === 0 ? Promise.resolve(new Map()) : lookup(ids)) };
}

/** Dedupe checks and records of concurrent deliveries, one query per batch. */
export function batchSeenEvents(seen: SeenEvents, windowMs: number): SeenEvents {
  const check = createBatcher<readonly string[], Set<string>>({
    maxItems: MAX_ITEMS,
    run: async (lists) => {
      const all = await seen.seen([...new Set(lists.flat())], windowMs);
      return lists.map((ids) => new Set(ids.filter((id) => all.has(id))));
    },
  });
  const record = createBatcher<readonly string[], void>({
    maxItems: MAX_ITEMS,
    run: async (lists) => {
      await seen.record([...new Set(lists.flat())]);
      return lists.map(() => undefined);
    },
  });
  return {
    ...seen,
    seen: (ids) => (ids.length === 0 ? Promise.resolve(new Set()) : check(ids)),
    record: (ids) => (ids.length === 0 ? Promise.resolve() : record(ids)),
  };
}
