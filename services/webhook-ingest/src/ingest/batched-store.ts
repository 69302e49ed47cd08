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

/**
 * Recently found realm → org links, answered from memory for `ttlMs`. Links and unlinks made through this
 * object (this replica's projection consumer) update the memory at once (a link the store refused as older leaves it); one made by another replica's
 * consumer is seen here within `ttlMs`, which only matters for a realm moving between orgs (a notification
 * routed to the previous org meanwhile, whose connection has just ended). Unknown realms are never cached, so
 * a realm linked anywhere is routed as soon as the shared store has it.
 */
export function cacheRealmOrgs(realms: RealmOrgs, ttlMs: number, now = Date.now): RealmOrgs {
  if (ttlMs <= 0) return realms;
  const known = new Map<string, { orgId: string; until: number }>();
  return {
    ...realms,
    async lookup(realmIds) {
      const at = now();
      const found = new Map<string, string>();
      const missing: string[] = [];
      for (const id of realmIds) {
        const hit = known.get(id);
        if (hit && hit.until > at) found.set(id, hit.orgId);
        else missing.push(id);
      }
      if (missing.length > 0) {
        for (const [id, orgId] of await realms.lookup(missing)) {
          found.set(id, orgId);
          known.set(id, { orgId, until: at + ttlMs });
        }
      }
      return found;
    },
    async link(link) {
      const applied = await realms.link(link);
      if (applied) known.set(link.realmId, { orgId: link.orgId, until: now() + ttlMs });
      return applied;
    },
    async unlink(realmId, connectionId, at) {
      await realms.unlink(realmId, connectionId, at);
      known.delete(realmId);
    },
  };
}

export interface WriteBehindSeenEvents extends SeenEvents {
  /** Resolves when every record started so far is written (or failed): the shutdown step. */
  flush(): Promise<void>;
}

/**
 * Dedupe checks and records of concurrent deliveries, one query per batch. Records are written behind the
 * answer: the 200 waits for Kafka, not for a dedupe row's commit. Ids published but not yet committed are
 * kept in memory and count as seen, so a redelivery to this replica is caught meanwhile. A record that fails
 * to commit costs at most a duplicate on a later redelivery, which consumers absorb (they dedupe on the
 * notification id); it never loses a change.
 */
export function batchSeenEvents(
  seen: SeenEvents,
  windowMs: number,
  onRecordError: (err: unknown) => void,
): WriteBehindSeenEvents {
  const pending = new Map<string, number>();
  const writes = new Set<Promise<void>>();
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
  const hold = (id: string, by: number) => {
    const n = (pending.get(id) ?? 0) + by;
    if (n > 0) pending.set(id, n);
    else pending.delete(id);
  };
  return {
    ...seen,
    async seen(ids) {
      if (ids.length === 0) return new Set();
      // Pending ids are read before the query: one committed meanwhile is then in the query's answer.
      const held = ids.filter((id) => pending.has(id));
      const found = await check(ids);
      for (const id of held) found.add(id);
      return found;
    },
    record(ids) {
      if (ids.length === 0) return Promise.resolve();
      for (const id of ids) hold(id, 1);
      const write: Promise<void> = record(ids)
        .catch(onRecordError)
        .finally(() => {
          for (const id of ids) hold(id, -1);
          writes.delete(write);
        });
      writes.add(write);
      return Promise.resolve();
    },
    async flush() {
      await Promise.all([...writes]);
    },
  };
}
