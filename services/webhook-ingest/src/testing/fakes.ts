import type { CatalogEvent } from '@qbo/events';
import type { Publish } from '../ingest/publish.js';
import type { WebhookMetrics } from '../metrics.js';
import type { KeptEntries, KeptEntry } from '../store/kept-entries.js';
import type { ParkedChange, ParkedChanges } from '../store/parked-changes.js';
import type { RealmOrgs } from '../store/realm-orgs.js';
import type { SeenEvents } from '../store/seen-events.js';

/** In-memory twins of the stores, for unit tests of the delivery pipeline. */
export function memoryRealmOrgs(
  links: Record<string, string> = {},
): RealmOrgs & { links: Map<string, string> } {
  const map = new Map(Object.entries(links));
  const rows = new Map<string, { connectionId: string; at: string; active: boolean }>();
  return {
    links: map,
    lookup: async (ids) => new Map(ids.flatMap((id) => (map.has(id) ? [[id, map.get(id) as string]] : []))),
    // As the store orders them: a link older than the event the realm's row reflects is refused.
    link: async ({ realmId, orgId, connectionId, at }) => {
      const row = rows.get(realmId);
      if (row && Date.parse(row.at) > Date.parse(at)) return false;
      if (row && row.at === at && (row.connectionId !== connectionId || !row.active)) return false;
      rows.set(realmId, { connectionId, at, active: true });
      map.set(realmId, orgId);
      return true;
    },
    unlink: async (realmId, connectionId, at) => {
      const row = rows.get(realmId);
      if (row && (row.connectionId !== connectionId || Date.parse(row.at) > Date.parse(at))) return;
      rows.set(realmId, { connectionId, at, active: false });
      map.delete(realmId);
    },
    isEmpty: async () => map.size === 0,
  };
}

export function memorySeenEvents(): SeenEvents & { ids: Set<string> } {
  const ids = new Set<string>();
  return {
    ids,
    seen: async (eventIds) => new Set(eventIds.filter((id) => ids.has(id))),
    record: async (eventIds) => {
      for (const id of eventIds) ids.add(id);
    },
    prune: async () => {},
  };
}

export function memoryParkedChanges(): ParkedChanges & { rows: (ParkedChange & { replayed: boolean })[] } {
  const rows: (ParkedChange & { replayed: boolean })[] = [];
  return {
    rows,
    add: async (changes, receivedAt) => {
      for (const change of changes)
        rows.push({ id: String(rows.length + 1), change, receivedAt, replayed: false });
    },
    pending: async (realmId, since) =>
      rows.filter(
        (r) => !r.replayed && r.change.realmId === realmId && Date.parse(r.receivedAt) >= Date.parse(since),
      ),
    markReplayed: async (ids) => {
      for (const r of rows) if (ids.includes(r.id)) r.replayed = true;
    },
    prune: async (before) => {
      const kept = rows.filter((r) => Date.parse(r.receivedAt) >= Date.parse(before));
      rows.splice(0, rows.length, ...kept);
    },
  };
}

export function memoryKeptEntries(): KeptEntries & { rows: (KeptEntry & { receivedAt: string })[] } {
  const rows: (KeptEntry & { receivedAt: string })[] = [];
  return {
    rows,
    keep: async (entries, receivedAt) => {
      for (const e of entries) {
        const same = (r: KeptEntry) =>
          r.reason === e.reason && Buffer.from(r.body).equals(Buffer.from(e.body));
        if (!rows.some(same)) rows.push({ ...e, receivedAt });
      }
    },
  };
}

/** A Kafka stand-in: keeps what was published, or fails while `down` is set. */
export function memoryKafka(): { publish: Publish; published: CatalogEvent[]; down: boolean } {
  const kafka = {
    published: [] as CatalogEvent[],
    down: false,
    publish: async (events: readonly CatalogEvent[]) => {
      if (kafka.down) throw new Error('broker unavailable');
      kafka.published.push(...events);
    },
  };
  return kafka;
}

export function countingMetrics(): WebhookMetrics & { rejections: string[] } {
  const rejections: string[] = [];
  return {
    rejections,
    received: () => {},
    verified: () => {},
    rejected: (reason) => rejections.push(reason),
    changes: () => {},
    publishLatency: () => {},
  };
}
