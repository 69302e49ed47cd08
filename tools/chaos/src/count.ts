import { type AnyEnvelope, contentHash } from '@qbo/events';
import { at, chaosToken, get } from './http.js';
import {
  type Counters,
  deliveries,
  eventIds,
  proveRefresh,
  readTopic,
  SYNCED_ENTITIES,
  simulatorRecords,
} from './sources.js';
import type { ChaosStack } from './stack.js';
import type { Workload } from './workload.js';

export interface Row {
  invariant: string;
  /** What was checked, for the table's second column. */
  checked: number;
  /** Violations: must be 0. */
  count: number;
  detail: string[];
}

/**
 * The invariants, each counted at its source of truth once the run has converged. `limits` is the
 * simulator's counters as read before any of these reads (they spend the same realms' budget).
 */
export async function countInvariants(
  stack: ChaosStack,
  workload: Workload,
  limits: Counters,
): Promise<Row[]> {
  const rows: Row[] = [];
  const [webhookLog, recordLog, runLog] = [
    await readTopic(stack, 'webhooks'),
    await readTopic(stack, 'records'),
    await readTopic(stack, 'syncRuns'),
  ];

  // Webhooks Intuit had answered 200, each change on the topic.
  const published = new Set(
    webhookLog.map((e) => (e.data as { notificationId?: string }).notificationId).filter(Boolean),
  );
  const answered = (await deliveries(stack))
    .filter((d) => d.attempts.some((a) => a.status === 200))
    .flatMap(eventIds);
  const lost = answered.filter((id) => !published.has(id));
  rows.push(row('webhook changes answered 200, not on the topic', answered.length, lost));

  // Intuit's own limiter refusing us (throttle reasons); the 429s the run injected carry no reason.
  const throttled: string[] = [];
  let calls = 0;
  for (const [realm, endpoints] of Object.entries(limits)) {
    for (const [endpoint, c] of Object.entries(endpoints)) {
      calls += c.calls;
      for (const [reason, n] of Object.entries(c.throttled ?? {}))
        for (let i = 0; i < n; i++) throttled.push(`${realm} ${endpoint} ${reason}`);
    }
  }
  rows.push(row('Intuit limits exceeded (calls throttled by its limiter)', calls, throttled));

  // Connections: still active everywhere, still able to refresh, mirror equal to Intuit record by record.
  const deactivated: string[] = [];
  const refreshLost: string[] = [];
  const differences: string[] = [];
  let records = 0;
  const connected = workload.connected;
  const tokens = new Map<string, string>();
  for (const org of connected) {
    const id = org.connectionId as string;
    const bearer = `Bearer ${await chaosToken(stack, org.orgId)}`;
    const seen = await get<{ status: string }>(
      `${at(stack.ports['auth-service'])}/connections/${id}`,
      bearer,
    );
    const vault = await get<{ status: string }>(
      `${at(stack.ports['token-service'])}/internal/connections/${id}/status`,
      `Bearer ${stack.secrets.operatorCredential}`,
    );
    const target = await stack.db.query<{ status: string }>(
      'select status from sync.sync_target where connection_id = $1',
      [id],
    );
    for (const [where, status] of [
      ['auth-service', seen.status],
      ['token-service', vault.status],
      ['sync-service', target[0]?.status ?? 'missing'],
    ] as const) {
      if (status !== 'active') deactivated.push(`${id} ${where}: ${status}`);
    }
    let token: string;
    try {
      token = await proveRefresh(stack, org.realmId, id);
      tokens.set(org.realmId, token);
    } catch (err) {
      refreshLost.push(`${id}: ${(err as Error).message}`);
      continue;
    }
    for (const entity of SYNCED_ENTITIES) {
      const remote = await simulatorRecords(stack, org.realmId, token, entity);
      const local = new Map(
        (
          await stack.db.query<{ entity_id: string; content_hash: string }>(
            `select entity_id, content_hash from sync.mirror_record
             where realm_id = $1 and entity = $2 and deleted_at is null`,
            [org.realmId, entity],
          )
        ).map((r) => [r.entity_id, r.content_hash]),
      );
      records += remote.size;
      for (const [rid, record] of remote) {
        const hash = local.get(rid);
        if (hash === undefined) differences.push(`${org.realmId} ${entity}/${rid} missing in the mirror`);
        else if (hash !== contentHash(record)) differences.push(`${org.realmId} ${entity}/${rid} differs`);
      }
      for (const rid of local.keys())
        if (!remote.has(rid)) differences.push(`${org.realmId} ${entity}/${rid} not at Intuit`);
    }
  }
  rows.push(row('refresh tokens lost', connected.length, refreshLost));
  rows.push(row('false deactivations (auth, token, sync views)', connected.length * 3, deactivated));
  rows.push(row('mirror vs Intuit, record by record: differences', records, differences));

  // The change log, per org: no gap in seq, a repeated seq only as the same event, newest = mirror.
  const gaps: string[] = [];
  const duplicates: string[] = [];
  const stale: string[] = [];
  const byOrg = new Map<string, AnyEnvelope[]>();
  for (const e of recordLog)
    if (e.type.startsWith('Record')) byOrg.set(e.orgId, [...(byOrg.get(e.orgId) ?? []), e]);
  let seqs = 0;
  for (const org of workload.orgs) {
    const log = byOrg.get(org.orgId) ?? [];
    const bySeq = new Map<bigint, AnyEnvelope>();
    for (const e of log) {
      const seq = BigInt((e.data as { seq: string }).seq);
      const before = bySeq.get(seq);
      if (before && JSON.stringify(before) !== JSON.stringify(e))
        duplicates.push(`${org.orgId} seq ${seq}: events ${before.id} and ${e.id}`);
      bySeq.set(seq, e);
    }
    const [last] = await stack.db.query<{ last_seq: string }>(
      'select last_seq::text from sync.org_seq where org_id = $1',
      [org.orgId],
    );
    const allocated = BigInt(last?.last_seq ?? '0');
    seqs += Number(allocated);
    for (let s = 1n; s <= allocated; s++) if (!bySeq.has(s)) gaps.push(`${org.orgId} seq ${s} missing`);
    for (const s of bySeq.keys()) if (s > allocated) gaps.push(`${org.orgId} seq ${s} beyond ${allocated}`);
    const newest = new Map<string, AnyEnvelope>();
    for (const [, e] of [...bySeq].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const d = e.data as { entity?: string; entityId?: string };
      if (d.entity !== undefined) newest.set(`${d.entity}/${d.entityId}`, e);
    }
    const mirror = await stack.db.query<{ key: string; content_hash: string; deleted: boolean }>(
      `select entity || '/' || entity_id as key, content_hash, deleted_at is not null as deleted
       from sync.mirror_record where org_id = $1`,
      [org.orgId],
    );
    for (const m of mirror) {
      const e = newest.get(m.key);
      const hash = (e?.data as { contentHash?: string } | undefined)?.contentHash;
      if (!e) stale.push(`${org.orgId} ${m.key}: no event`);
      else if (m.deleted ? e.type !== 'RecordDeleted' : hash !== m.content_hash)
        stale.push(`${org.orgId} ${m.key}: the newest event is not the mirror's version`);
    }
  }
  rows.push(row('sequence gaps on qbo.records.v1 (per org)', seqs, gaps));
  rows.push(row('change log vs mirror: newest event not the mirror version', seqs, stale));

  // Write-back: every command applied, one record each, one outcome event id each.
  const outcomes = new Map<string, Set<string>>();
  for (const e of runLog) {
    if (e.type !== 'RecordPushed' && e.type !== 'RecordPushFailed') continue;
    const commandId = (e.data as { commandId: string }).commandId;
    const { error, field } = e.data as { error?: { category?: string; code?: string }; field?: string };
    const why =
      e.type === 'RecordPushFailed'
        ? ` (${[error?.category, error?.code, field].filter(Boolean).join(' ')})`
        : '';
    outcomes.set(commandId, (outcomes.get(commandId) ?? new Set()).add(`${e.type} ${e.id}${why}`));
  }
  const notApplied: string[] = [];
  const named = new Map<string, number>();
  for (const org of connected) {
    const token = tokens.get(org.realmId);
    if (!token) continue;
    for (const r of (await simulatorRecords(stack, org.realmId, token, 'Customer')).values()) {
      const name = String(r.DisplayName);
      named.set(name, (named.get(name) ?? 0) + 1);
    }
  }
  for (const push of workload.pushes) {
    const seen = outcomes.get(push.command.id) ?? new Set();
    if (seen.size === 0 || [...seen].some((s) => s.startsWith('RecordPushFailed')))
      notApplied.push(`${push.command.id}: ${[...seen].join(', ') || 'no outcome'}`);
    if (seen.size > 1) duplicates.push(`command ${push.command.id}: ${seen.size} outcome events`);
    const records = named.get(push.displayName) ?? 0;
    if (records !== 1) duplicates.push(`command ${push.command.id}: ${records} records at Intuit`);
  }
  rows.push(row('push commands without a RecordPushed', workload.pushes.length, notApplied));
  rows.push(row('duplicate effects beyond at-least-once', workload.pushes.length + seqs, duplicates));
  const exits = [...stack.unexpectedExits].map(([name, n]) => `${name} ×${n}`);
  rows.push(row('services that died on their own', 4, exits));
  return rows;
}

const row = (invariant: string, checked: number, detail: string[]): Row => ({
  invariant,
  checked,
  count: detail.length,
  detail,
});
