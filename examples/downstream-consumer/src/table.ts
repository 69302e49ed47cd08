/**
 * A downstream copy of the platform's records, kept from the change feed: the rules every consumer of
 * `qbo.records.v1` and `qbo.records.state.v1` must follow, free of any Kafka detail.
 */

/** A record as this consumer keeps it. */
export interface Row {
  seq: string;
  orgId: string;
  realmId: string;
  entity: string;
  entityId: string;
  /** The payload, or null when the platform left it out for size (`payloadOmitted`): fetch it elsewhere. */
  after: Record<string, unknown> | null;
  active?: boolean;
  voided: boolean;
}

/** A jump in an org's sequence numbers: events were lost, and that org must be bootstrapped again. */
export interface Gap {
  orgId: string;
  /** The sequence number expected next. */
  expected: string;
  /** The one that arrived. */
  got: string;
}

/** The fields of record events this consumer reads (the rest are ignored, as a tolerant reader should). */
export interface FeedEvent {
  type: string;
  orgId: string;
  data: {
    seq: string;
    realmId: string;
    entity?: string;
    entityId?: string;
    after?: Record<string, unknown>;
    active?: boolean;
    voided?: boolean;
  };
}

/** The state topic's key of a record, as the platform builds it. */
export const keyOf = (orgId: string, d: { realmId: string; entity?: string; entityId?: string }) =>
  `${orgId}:${d.realmId}:${d.entity}:${d.entityId}`;

/** Sequence numbers are 20-digit zero-padded decimals: as strings they compare as numbers. */
const newer = (seq: string, than: string | undefined) => than === undefined || seq > than;

const SEQ_DIGITS = 20;
const nextSeq = (seq: string) => (BigInt(seq) + 1n).toString().padStart(SEQ_DIGITS, '0');

export class FeedTable {
  /** Live records by key. */
  private readonly rows = new Map<string, Row>();
  /** The seq of each key's delete, so an older upsert read later cannot bring the record back. */
  private readonly deletedAt = new Map<string, string>();
  /** Per org: the last seq read on the log. */
  private readonly logSeq = new Map<string, string>();
  readonly gaps: Gap[] = [];

  private seqOf(key: string): string | undefined {
    const row = this.rows.get(key)?.seq;
    const deleted = this.deletedAt.get(key);
    if (row === undefined) return deleted;
    return deleted === undefined || row > deleted ? row : deleted;
  }

  private put(event: FeedEvent, key: string): boolean {
    if (!newer(event.data.seq, this.seqOf(key))) return false;
    const d = event.data;
    this.rows.set(key, {
      seq: d.seq,
      orgId: event.orgId,
      realmId: d.realmId,
      entity: d.entity ?? '',
      entityId: d.entityId ?? '',
      after: d.after ?? null,
      ...(d.active === undefined ? {} : { active: d.active }),
      voided: d.voided ?? false,
    });
    this.deletedAt.delete(key);
    return true;
  }

  private remove(key: string, seq: string | undefined): boolean {
    if (seq !== undefined && !newer(seq, this.seqOf(key))) return false;
    this.rows.delete(key);
    if (seq !== undefined) this.deletedAt.set(key, seq);
    return true;
  }

  /** A message of the state topic: a `RecordState`, or a tombstone (null value) with the delete's seq header. */
  applyState(key: string, event: FeedEvent | null, tombstoneSeq?: string): boolean {
    return event === null ? this.remove(key, tombstoneSeq) : this.put(event, key);
  }

  /** An event of the change log: applied only when its seq is newer than the record's; gaps are recorded. */
  applyLog(event: FeedEvent): { applied: boolean; gap?: Gap } {
    const gap = this.checkSequence(event.orgId, event.data.seq);
    const key = keyOf(event.orgId, event.data);
    let applied = false;
    if (event.type === 'RecordUpserted') applied = this.put(event, key);
    else if (event.type === 'RecordDeleted') applied = this.remove(key, event.data.seq);
    else if (event.type === 'ConnectionDataPurged') applied = this.purge(event.orgId, event.data);
    return gap ? { applied, gap } : { applied };
  }

  /**
   * The platform purged a company (its grace period after a disconnect ended, or an erasure): every record of
   * it older than the event goes, deletes or not. The platform deleted each record before, so this only catches
   * what a consumer might have kept by other paths.
   */
  private purge(orgId: string, d: { seq: string; realmId: string }): boolean {
    const prefix = `${orgId}:${d.realmId}:`;
    // Exactly `entity:id` after the prefix: an org id may hold ':', so another org's keys can begin with it.
    const ours = (key: string) => key.startsWith(prefix) && key.slice(prefix.length).split(':').length === 2;
    for (const [key, row] of this.rows) if (ours(key) && row.seq < d.seq) this.rows.delete(key);
    for (const [key, seq] of this.deletedAt) if (ours(key) && seq < d.seq) this.deletedAt.delete(key);
    return true;
  }

  /**
   * Contiguity of an org's seqs on the log, from the first event read. The switch from the state topic cannot
   * be checked this way: snapshot markers take seqs and never reach the state topic, so the state's highest
   * seq may lawfully be followed by a higher one than the next. The margin before T0 covers the switch.
   */
  private checkSequence(orgId: string, seq: string): Gap | undefined {
    const last = this.logSeq.get(orgId);
    if (last !== undefined && seq <= last) return undefined; // a duplicate or a re-read: nothing new
    this.logSeq.set(orgId, seq);
    if (last === undefined || seq === nextSeq(last)) return undefined;
    const gap: Gap = { orgId, expected: nextSeq(last), got: seq };
    this.gaps.push(gap);
    return gap;
  }

  /** The live records, by state key, sorted: what a test compares. */
  snapshot(): Record<string, Row> {
    return Object.fromEntries([...this.rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  get size(): number {
    return this.rows.size;
  }
}
