import type { AnyEnvelope } from '@qbo/events';
import { type SyncStack, topics } from './sync-stack.js';

type Data = { seq: string; entity?: string; entityId?: string; contentHash?: string };

/** An org's record events on the change log, in topic order. */
export async function orgLog(stack: SyncStack, orgId: string): Promise<AnyEnvelope[]> {
  return (await stack.readAll(topics.records))
    .map((m) => m.value)
    .filter((v): v is AnyEnvelope => v !== null && v.orgId === orgId && v.type.startsWith('Record'));
}

/**
 * What is wrong with an org's change log against its mirror and sequence: a gap in the sequence, a duplicate
 * sequence number carrying another event, or a record whose newest event is not the mirror's version.
 * At-least-once delivery may repeat an event; it must then be the same event (id and content).
 */
export async function feedProblems(stack: SyncStack, orgId: string, log: AnyEnvelope[]): Promise<string[]> {
  const problems: string[] = [];
  const bySeq = new Map<bigint, AnyEnvelope>();
  for (const e of log) {
    const seq = BigInt((e.data as Data).seq);
    const seen = bySeq.get(seq);
    if (seen && JSON.stringify(seen) !== JSON.stringify(e)) {
      problems.push(`seq ${seq} carries two events: ${seen.id} and ${e.id}`);
    }
    bySeq.set(seq, e);
  }
  const [row] = await stack.db.query<{ last_seq: string }>(
    'select last_seq::text from sync.org_seq where org_id = $1',
    [orgId],
  );
  const last = BigInt(row?.last_seq ?? '0');
  for (let s = 1n; s <= last; s++) if (!bySeq.has(s)) problems.push(`seq ${s} missing from the log`);
  if (bySeq.size !== Number(last)) problems.push(`${bySeq.size} seqs on the log, ${last} allocated`);

  // A record is known by its company too: two companies of one org share entity ids.
  const newest = new Map<string, AnyEnvelope>();
  for (const [, e] of [...bySeq].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const d = e.data as Data;
    if (d.entity !== undefined) newest.set(`${e.realmId}/${d.entity}/${d.entityId}`, e);
  }
  const mirror = await stack.db.query<{ key: string; content_hash: string; deleted: boolean }>(
    `select realm_id || '/' || entity || '/' || entity_id as key, content_hash, deleted_at is not null as deleted
     from sync.mirror_record where org_id = $1`,
    [orgId],
  );
  for (const m of mirror) {
    const e = newest.get(m.key);
    if (!e) problems.push(`${m.key}: no event on the log`);
    else if (m.deleted && e.type !== 'RecordDeleted')
      problems.push(`${m.key}: deleted, last event ${e.type}`);
    else if (!m.deleted && (e.data as Data).contentHash !== m.content_hash) {
      problems.push(`${m.key}: the last event is not the mirror's version`);
    }
  }
  return problems;
}
