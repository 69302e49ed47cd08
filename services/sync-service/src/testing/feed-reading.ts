import type { AnyEnvelope } from '@qbo/events';
import type { Counters } from './simulator-control.js';
import { type SyncStack, topics } from './sync-stack.js';

export interface RecordEventData {
  entity: string;
  entityId: string;
  seq: string;
  op: 'c' | 'u' | 'r' | 'd';
  reason?: string;
  mergedInto?: string;
  active?: boolean;
  voided?: boolean;
  source: { origin: string; runId?: string };
}

/** The record events of one realm on the change log, in log order, after sequence number `after`. */
export async function recordEvents(
  stack: SyncStack,
  realmId: string,
  after = 0n,
): Promise<(AnyEnvelope & { data: RecordEventData })[]> {
  await stack.drained();
  return (await stack.readAll(topics.records))
    .map((m) => m.value)
    .filter(
      (v): v is AnyEnvelope & { data: RecordEventData } =>
        v !== null && v.realmId === realmId && v.type.startsWith('Record'),
    )
    .filter((v) => BigInt(v.data.seq) > after);
}

/** The newest message per key on the compacted state topic (null: a tombstone). */
export async function latestState(stack: SyncStack): Promise<Map<string, AnyEnvelope | null>> {
  await stack.drained();
  const latest = new Map<string, AnyEnvelope | null>();
  for (const m of await stack.readAll(topics.recordsState)) if (m.key) latest.set(m.key, m.value);
  return latest;
}

/** The last sequence number the org's change log has assigned. */
export async function lastSeq(stack: SyncStack, orgId: string): Promise<bigint> {
  const rows = await stack.db.query<{ last_seq: string }>(
    'select last_seq::text from sync.org_seq where org_id = $1',
    [orgId],
  );
  return BigInt(rows[0]?.last_seq ?? '0');
}

/** Calls the simulator answered for a realm at an endpoint, less those refused for an expired token. */
export const answeredCalls = (c: Counters, realmId: string, endpoint: string): number => {
  const e = c[realmId]?.[endpoint];
  return (e?.calls ?? 0) - (e?.statuses?.['401'] ?? 0);
};
