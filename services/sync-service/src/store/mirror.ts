import type { QboObject } from '@qbo/qbo-client';
import { execute, query } from '@qbo/service-kit';
import type { EntityDecl } from '../domain/entities.js';
import { decideChange, type MirrorState, type RecordChange } from '../domain/record-change.js';
import type { FeedEntry, FeedWriter, Origin, SnapshotRef, Target } from './feed.js';
import type { Em } from './sql.js';
import { closeReadRecords } from './sync-errors.js';

export interface PageCounts {
  upserted: number;
  deleted: number;
  unchanged: number;
}

/** What a webhook told us about one record, beyond what a read shows. */
export interface RecordHint {
  mergedInto?: string;
  voided?: boolean;
  /** A merge kept this record: the version the merge made is its refresh. */
  survivor?: boolean;
}

type Effective = Extract<RecordChange, { kind: 'upsert' } | { kind: 'delete' }>;

interface StateRow {
  entity_id: string;
  content_hash: string;
  sync_token: string | null;
  last_updated: Date | null;
  active: boolean | null;
  voided: boolean;
  deleted: boolean;
  merged_away: boolean;
  generation: number | null;
}

/** Allocates `n` consecutive sequence numbers of the org's change log; returns the first. */
export async function allocateSeq(em: Em, orgId: string, n: number): Promise<bigint> {
  const rows = await query<{ last_seq: string }>(
    em,
    `insert into org_seq (org_id, last_seq) values ($1, $2) on conflict (org_id)
     do update set last_seq = org_seq.last_seq + excluded.last_seq returning last_seq::text`,
    [orgId, n],
  );
  return BigInt(rows[0]?.last_seq ?? '0') - BigInt(n) + 1n;
}

/** A mirror row's state, and the snapshot generation that last read it. */
export type MirrorRowState = MirrorState & { generation: number | null };

export async function mirrorStates(
  em: Em,
  target: Target,
  entity: string,
  ids: readonly string[],
): Promise<Map<string, MirrorRowState>> {
  const rows = await query<StateRow>(
    em,
    `select entity_id, content_hash, sync_token, last_updated, active, voided, deleted_at is not null as deleted,
       coalesce(delete_reason = 'merged', false) as merged_away, generation
     from mirror_record where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = any($4::text[])`,
    [target.orgId, target.realmId, entity, ids],
  );
  return new Map(
    rows.map((r) => [
      r.entity_id,
      {
        contentHash: r.content_hash,
        syncToken: r.sync_token,
        lastUpdated: r.last_updated ? new Date(r.last_updated).getTime() : null,
        active: r.active,
        voided: r.voided,
        deleted: r.deleted,
        mergedAway: r.merged_away,
        generation: r.generation,
      },
    ]),
  );
}

export interface ApplyRecords {
  target: Target;
  decl: EntityDecl;
  rows: readonly QboObject[];
  origin: Origin;
  runId: string;
  snapshot?: SnapshotRef | undefined;
  hints?: ReadonlyMap<string, RecordHint>;
}

/**
 * Applies one page of records in the caller's transaction: decides each against the mirror, writes the
 * changed ones with consecutive sequence numbers, and hands their change-log entries to the feed writer, so the
 * mirror, the sequence and the outbox commit together or not at all.
 */
export async function applyRecords(em: Em, feed: FeedWriter, input: ApplyRecords): Promise<PageCounts> {
  const { target, decl, rows } = input;
  const ids = [...new Set(rows.map((r) => String(r.Id)))];
  const states = await mirrorStates(em, target, decl.name, ids);
  const changes: Effective[] = [];
  let unchanged = 0;
  const generation = input.snapshot?.generation;
  const firstRead = new Set(
    ids.filter((id) => generation !== undefined && states.get(id)?.generation !== generation),
  );
  for (const row of rows) {
    const id = String(row.Id);
    const hint = input.hints?.get(id);
    const change = decideChange(states.get(id), row, {
      kind: decl.kind,
      snapshot: input.snapshot !== undefined,
      reemit: firstRead.delete(id),
      mergedInto: hint?.mergedInto,
      voidNotified: hint?.voided === true,
      mergeSurvivor: hint?.survivor === true,
    });
    if (change.kind === 'unchanged') {
      unchanged++;
      continue;
    }
    changes.push(change);
    states.set(id, { ...stateAfter(change, states.get(id)), generation: generation ?? null });
  }
  await writeChanges(em, feed, { ...input, changes });
  if (generation !== undefined) await markRead(em, target, decl.name, ids, generation);
  await closeReadRecords(em, target, decl.name, ids, input.runId);
  return {
    upserted: changes.filter((c) => c.kind === 'upsert').length,
    deleted: changes.filter((c) => c.kind === 'delete').length,
    unchanged,
  };
}

/** Marks records as read by a snapshot generation (whether or not they changed). */
async function markRead(
  em: Em,
  target: Target,
  entity: string,
  ids: readonly string[],
  generation: number,
): Promise<void> {
  await execute(
    em,
    `update mirror_record set generation = $5
     where org_id = $1 and realm_id = $2 and entity = $3 and entity_id = any($4::text[])`,
    [target.orgId, target.realmId, entity, ids, generation],
  );
}

/** The live records of an entity that the snapshot generation has not read. */
export async function unreadIds(
  em: Em,
  target: Target,
  entity: string,
  generation: number,
): Promise<string[]> {
  const rows = await query<{ entity_id: string }>(
    em,
    `select entity_id from mirror_record
     where org_id = $1 and realm_id = $2 and entity = $3 and deleted_at is null
       and generation is distinct from $4 order by entity_id`,
    [target.orgId, target.realmId, entity, generation],
  );
  return rows.map((r) => r.entity_id);
}

export interface WriteChanges {
  target: Target;
  decl: EntityDecl;
  changes: readonly Effective[];
  origin: Origin;
  runId: string;
  snapshot?: SnapshotRef | undefined;
}

export async function writeChanges(em: Em, feed: FeedWriter, input: WriteChanges): Promise<void> {
  const { target, decl, changes } = input;
  if (changes.length === 0) return;
  const first = await allocateSeq(em, target.orgId, changes.length);
  const entries: FeedEntry[] = changes.map((change, i) => ({
    kind: 'record',
    seq: first + BigInt(i),
    target,
    entity: decl.name,
    change,
    origin: input.origin,
    runId: input.runId,
    snapshot: input.snapshot,
  }));
  await execute(
    em,
    `insert into mirror_record as m (org_id, realm_id, entity, entity_id, connection_id, payload, sync_token,
       last_updated, active, voided, content_hash, deleted_at, delete_reason, merged_into, seq)
     select $1, $2, $3, r.entity_id, $4::uuid, coalesce(r.payload, '{}'::jsonb), r.sync_token, r.last_updated,
       r.active, coalesce(r.voided, false), coalesce(r.content_hash, ''),
       case when r.deleted then now() end, r.delete_reason, r.merged_into, r.seq
     from jsonb_to_recordset($5::jsonb) as r(entity_id text, payload jsonb, sync_token text,
       last_updated timestamptz, active boolean, voided boolean, content_hash text, deleted boolean,
       delete_reason text, merged_into text, seq bigint)
     on conflict (org_id, realm_id, entity, entity_id) do update set
       connection_id = excluded.connection_id,
       payload = case when excluded.deleted_at is not null then m.payload else excluded.payload end,
       sync_token = coalesce(excluded.sync_token, m.sync_token),
       last_updated = coalesce(excluded.last_updated, m.last_updated),
       active = case when excluded.deleted_at is not null then m.active else excluded.active end,
       voided = case when excluded.deleted_at is not null then m.voided else excluded.voided end,
       content_hash = case when excluded.deleted_at is not null then m.content_hash else excluded.content_hash end,
       deleted_at = excluded.deleted_at, delete_reason = excluded.delete_reason,
       merged_into = excluded.merged_into, seq = excluded.seq, updated_at = now()`,
    [
      target.orgId,
      target.realmId,
      decl.name,
      target.connectionId,
      // One row per record: a record changed twice in one page ends as its last change (an upsert may not
      // touch a row twice), while both changes keep their events and sequence numbers.
      JSON.stringify([...new Map(entries.map((e) => [entryId(e), mirrorRow(e)])).values()]),
    ],
  );
  await feed.write(em, entries);
}

const entryId = (entry: FeedEntry) => (entry.kind === 'record' ? entry.change.entityId : '');

function mirrorRow(entry: FeedEntry) {
  if (entry.kind !== 'record') throw new Error('only record entries have mirror rows');
  const c = entry.change;
  const lastUpdated = c.lastUpdated === null ? null : new Date(c.lastUpdated).toISOString();
  if (c.kind === 'delete') {
    return {
      entity_id: c.entityId,
      last_updated: lastUpdated,
      deleted: true,
      delete_reason: c.reason,
      merged_into: c.mergedInto ?? null,
      seq: entry.seq.toString(),
    };
  }
  return {
    entity_id: c.entityId,
    payload: c.payload,
    sync_token: c.syncToken,
    last_updated: lastUpdated,
    active: c.active,
    voided: c.voided,
    content_hash: c.contentHash,
    deleted: false,
    delete_reason: null,
    merged_into: null,
    seq: entry.seq.toString(),
  };
}

function stateAfter(change: Effective, prev: MirrorState | undefined): MirrorState {
  if (change.kind === 'delete') {
    return { ...(prev as MirrorState), deleted: true };
  }
  return {
    contentHash: change.contentHash,
    syncToken: change.syncToken,
    lastUpdated: change.lastUpdated,
    active: change.active,
    voided: change.voided,
    deleted: false,
  };
}
