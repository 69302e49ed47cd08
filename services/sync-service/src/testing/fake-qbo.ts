import { QboError, type QboObject, type QueryParts } from '@qbo/qbo-client';
import type { CdcFn, QueryFn } from '../sync/ports.js';

export interface FakeRecord {
  Id: string;
  lastUpdated: number;
  Active?: boolean;
  deleted?: boolean;
  extra?: Record<string, unknown>;
}

/**
 * An in-memory stand-in for a company's Accounting API, for unit tests of the sync's reading strategies. It
 * keeps only what those strategies depend on: LastUpdatedTime ranges, `Active IN`, `Id IN`, ordering by
 * LastUpdatedTime (ties in a shuffled order, as Intuit gives no stable one) or Id, offsets, COUNT(*), and CDC's
 * 1,000-object cap, and poisoned records. The integration tests use the simulator.
 */
export function createFakeQbo(opts: { now: () => number; random?: () => number }) {
  const tables = new Map<string, Map<string, FakeRecord>>();
  const random = opts.random ?? Math.random;
  const calls: { kind: 'query' | 'count' | 'cdc'; detail: string }[] = [];
  let beforeCall: ((n: number) => void) | undefined;
  const poisons = new Map<string, '4002' | '10000'>();
  /** Intuit's answer to a page, CDC window or Id list holding a poisoned record (COUNT still answers). */
  const refuse = (entity: string, ids: readonly string[]) => {
    const code = ids.map((id) => poisons.get(`${entity}/${id}`)).find((c) => c !== undefined);
    if (!code) return;
    throw new QboError({
      category: code === '4002' ? 'validation' : 'server',
      code,
      status: code === '4002' ? 400 : 500,
      message: code === '4002' ? 'QueryProcessingError' : 'SystemFault',
      attempts: 1,
    });
  };

  const table = (entity: string) => {
    const t = tables.get(entity) ?? new Map<string, FakeRecord>();
    tables.set(entity, t);
    return t;
  };
  const toObject = (entity: string, r: FakeRecord): QboObject =>
    r.deleted
      ? { Id: r.Id, status: 'Deleted', MetaData: { LastUpdatedTime: iso(r.lastUpdated) } }
      : {
          Id: r.Id,
          SyncToken: '0',
          ...(r.Active === undefined ? {} : { Active: r.Active }),
          ...r.extra,
          MetaData: { LastUpdatedTime: iso(r.lastUpdated) },
          entity,
        };

  const query: QueryFn = async (parts: QueryParts) => {
    beforeCall?.(calls.length);
    calls.push({ kind: parts.count ? 'count' : 'query', detail: JSON.stringify(parts) });
    const names = parts.where?.some((c) => c.field === 'Active') ?? false;
    let rows = [...table(parts.entity).values()].filter(
      (r) => !r.deleted && (names || r.Active !== false) && (parts.where ?? []).every((c) => test(r, c)),
    );
    if (parts.count) return { rows: [], totalCount: rows.length, time: iso(opts.now()) };
    if (parts.orderBy?.field === 'Id') rows.sort((a, b) => Number(a.Id) - Number(b.Id));
    else if (parts.orderBy) {
      rows = rows
        .map((r) => ({ r, k: random() }))
        .sort((a, b) => a.r.lastUpdated - b.r.lastUpdated || a.k - b.k)
        .map((x) => x.r);
    }
    const start = (parts.startPosition ?? 1) - 1;
    const page = rows.slice(start, start + (parts.maxResults ?? 100));
    refuse(
      parts.entity,
      page.map((r) => r.Id),
    );
    return { rows: page.map((r) => toObject(parts.entity, r)), time: iso(opts.now()) };
  };

  const cdc: CdcFn = async (entities, since) => {
    beforeCall?.(calls.length);
    calls.push({ kind: 'cdc', detail: entities.join(',') });
    const changes: Record<string, QboObject[]> = {};
    let total = 0;
    let truncated = false;
    for (const entity of entities) {
      const changed = [...table(entity).values()].filter((r) => r.lastUpdated >= since);
      const ordered = [
        ...changed.filter((r) => !r.deleted).sort((a, b) => a.lastUpdated - b.lastUpdated),
        ...changed.filter((r) => r.deleted),
      ];
      refuse(
        entity,
        changed.map((r) => r.Id),
      );
      const room = 1000 - total;
      if (ordered.length > room) truncated = true;
      const taken = ordered.slice(0, Math.max(0, room));
      total += taken.length;
      if (taken.length > 0) changes[entity] = taken.map((r) => toObject(entity, r));
    }
    return { changes, truncated: truncated || total >= 1000, time: iso(opts.now()) };
  };

  return {
    query,
    cdc,
    calls,
    put(entity: string, r: FakeRecord) {
      table(entity).set(r.Id, r);
    },
    get: (entity: string, id: string) => table(entity).get(id),
    /** Makes a record unreadable, as the simulator's `poison` fault does. */
    poison(entity: string, id: string, code: '4002' | '10000' = '4002') {
      poisons.set(`${entity}/${id}`, code);
    },
    records: (entity: string) => [...table(entity).values()],
    /** Runs before every call with the number of calls made so far: to change data mid-read. */
    onCall(fn: (n: number) => void) {
      beforeCall = fn;
    },
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function test(r: FakeRecord, c: NonNullable<QueryParts['where']>[number]): boolean {
  const v = c.value;
  if (c.field === 'Active') return (v as boolean[]).includes(r.Active !== false);
  if (c.field === 'Id') return (v as string[]).includes(r.Id);
  const t = (v as Date).getTime();
  if (c.op === '>=') return r.lastUpdated >= t;
  if (c.op === '<') return r.lastUpdated < t;
  throw new Error(`fake qbo does not support ${c.field} ${c.op}`);
}
