import { contentHash } from '@qbo/events';
import type { EntityKind } from './entities.js';
import { lastUpdatedOf } from './qbo-time.js';

/** What the mirror holds of one record: enough to decide whether a newly read version is news. */
export interface MirrorState {
  contentHash: string;
  syncToken: string | null;
  lastUpdated: number | null;
  active: boolean | null;
  voided: boolean;
  deleted: boolean;
  /** Deleted as merged away: an inactive copy Intuit keeps of it stays gone. */
  mergedAway?: boolean;
}

export type UpsertReason = 'deactivated' | 'reactivated' | 'voided' | 'merged_survivor' | 'reconcile';
export type DeleteReason = 'deleted' | 'merged' | 'reconcile' | 'realm_detached';

export type RecordChange =
  | { kind: 'unchanged'; why: 'same_content' | 'older_version' | 'unknown_deleted' }
  | {
      kind: 'upsert';
      op: 'c' | 'u' | 'r';
      reason?: UpsertReason;
      entityId: string;
      syncToken: string | null;
      lastUpdated: number | null;
      active: boolean | null;
      voided: boolean;
      contentHash: string;
      payload: Record<string, unknown>;
    }
  | {
      kind: 'delete';
      reason: DeleteReason;
      entityId: string;
      mergedInto?: string;
      lastUpdated: number | null;
    };

export interface ChangeContext {
  kind: EntityKind;
  /** Emitted by a load or reconciliation run: `r` instead of `c`/`u`. */
  snapshot: boolean;
  /**
   * A snapshot's first read of this record in its generation: the record is emitted (`r`) even when its
   * content is unchanged, so the generation holds every record.
   */
  reemit?: boolean;
  /** The record id this one was merged into, when a webhook said so. */
  mergedInto?: string | undefined;
  /** Intuit's webhook said the transaction was voided. */
  voidNotified?: boolean;
  /** Intuit's webhook said another record was merged into this one. */
  mergeSurvivor?: boolean;
}

/** A deleted transaction as CDC reports it: a stub with `status: "Deleted"` and no SyncToken (§3). */
export const isDeletedStub = (o: Record<string, unknown>): boolean => o.status === 'Deleted';

/**
 * Intuit marks a void with no status field (ACCTG-9279): the amounts go to zero and the private note starts
 * with "Voided" (sync-research §1.7), so both must hold.
 */
export function looksVoided(o: Record<string, unknown>): boolean {
  const note = typeof o.PrivateNote === 'string' ? o.PrivateNote : '';
  const total = o.TotalAmt;
  return /^voided/i.test(note) && (total === undefined || total === 0);
}

const numeric = (token: string | null | undefined): number | undefined =>
  token === null || token === undefined || !/^\d+$/.test(token) ? undefined : Number(token);

/**
 * Decides what one record read from QuickBooks means against what the mirror holds. Pure: the same input
 * always decides the same, so a page read twice (an inclusive cursor, a resumed run) emits nothing twice.
 */
export function decideChange(
  prev: MirrorState | undefined,
  incoming: Record<string, unknown>,
  ctx: ChangeContext,
): RecordChange {
  const entityId = String(incoming.Id);
  const lastUpdated = lastUpdatedOf(incoming) ?? null;
  if (isDeletedStub(incoming)) {
    if (!prev || prev.deleted) return { kind: 'unchanged', why: 'unknown_deleted' };
    return ctx.mergedInto !== undefined
      ? { kind: 'delete', reason: 'merged', entityId, mergedInto: ctx.mergedInto, lastUpdated }
      : { kind: 'delete', reason: ctx.kind === 'name_list' ? 'merged' : 'deleted', entityId, lastUpdated };
  }

  // Where Intuit keeps a merged-away name as an inactive record (sync-research §1.8), the webhook's merge
  // says what it is: gone, merged into the survivor, like the Deleted stub elsewhere.
  if (
    ctx.kind === 'name_list' &&
    incoming.Active === false &&
    (ctx.mergedInto !== undefined || prev?.mergedAway)
  ) {
    if (!prev || prev.deleted) return { kind: 'unchanged', why: 'unknown_deleted' };
    return { kind: 'delete', reason: 'merged', entityId, mergedInto: ctx.mergedInto as string, lastUpdated };
  }

  const syncToken = typeof incoming.SyncToken === 'string' ? incoming.SyncToken : null;
  if (prev && !prev.deleted && isOlder(prev, lastUpdated, syncToken)) {
    return { kind: 'unchanged', why: 'older_version' };
  }
  const hash = contentHash(incoming);
  if (prev && !prev.deleted && prev.contentHash === hash && ctx.reemit !== true)
    return { kind: 'unchanged', why: 'same_content' };

  const active = ctx.kind === 'name_list' ? incoming.Active !== false : null;
  const voided = ctx.kind === 'transaction' && (ctx.voidNotified === true || looksVoided(incoming));
  const known = prev !== undefined && !prev.deleted;
  const reason =
    reasonFor(known ? prev : undefined, active, voided) ??
    (ctx.mergeSurvivor ? 'merged_survivor' : undefined);
  return {
    kind: 'upsert',
    op: ctx.snapshot ? 'r' : known ? 'u' : 'c',
    ...(reason ? { reason } : {}),
    entityId,
    syncToken,
    lastUpdated,
    active,
    voided,
    contentHash: hash,
    payload: incoming,
  };
}

function isOlder(prev: MirrorState, lastUpdated: number | null, syncToken: string | null): boolean {
  const prevToken = numeric(prev.syncToken);
  const token = numeric(syncToken);
  if (prevToken !== undefined && token !== undefined && token !== prevToken) return token < prevToken;
  return prev.lastUpdated !== null && lastUpdated !== null && lastUpdated < prev.lastUpdated;
}

function reasonFor(
  prev: MirrorState | undefined,
  active: boolean | null,
  voided: boolean,
): UpsertReason | undefined {
  if (active === false && prev?.active !== false) return 'deactivated';
  if (active === true && prev?.active === false) return 'reactivated';
  if (voided && !prev?.voided) return 'voided';
  return undefined;
}
