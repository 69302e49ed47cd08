import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentHash } from '@qbo/events';
import { decideChange, type MirrorState } from './record-change.js';

const at = (iso: string) => ({ LastUpdatedTime: iso });
const customer = (fields: Record<string, unknown> = {}) => ({
  Id: '42',
  SyncToken: '3',
  DisplayName: 'Amy',
  Active: true,
  MetaData: at('2026-03-01T10:00:00-08:00'),
  ...fields,
});
const held = (o: Record<string, unknown>, extra: Partial<MirrorState> = {}): MirrorState => ({
  contentHash: contentHash(o),
  syncToken: String(o.SyncToken),
  lastUpdated: Date.parse(String((o.MetaData as { LastUpdatedTime: string }).LastUpdatedTime)),
  active: o.Active === undefined ? null : o.Active !== false,
  voided: false,
  deleted: false,
  ...extra,
});
const nameList = { kind: 'name_list' as const, snapshot: false };
const transaction = { kind: 'transaction' as const, snapshot: false };

describe('decideChange', () => {
  it('creates what the mirror does not hold, as `r` when a load read it', () => {
    assert.equal((decideChange(undefined, customer(), nameList) as { op: string }).op, 'c');
    assert.equal(
      (decideChange(undefined, customer(), { ...nameList, snapshot: true }) as { op: string }).op,
      'r',
    );
  });

  it("re-emits unchanged content as `r` on a snapshot's first read in its generation, never an older version", () => {
    const snapshot = { ...nameList, snapshot: true };
    const change = decideChange(held(customer()), customer(), { ...snapshot, reemit: true });
    assert.equal((change as { op: string }).op, 'r');
    assert.equal((change as { reason?: string }).reason, undefined);
    assert.deepEqual(decideChange(held(customer()), customer(), snapshot), {
      kind: 'unchanged',
      why: 'same_content',
    });
    const newer = held(customer({ SyncToken: '4', MetaData: at('2026-03-01T11:00:00-08:00') }));
    assert.deepEqual(decideChange(newer, customer(), { ...snapshot, reemit: true }), {
      kind: 'unchanged',
      why: 'older_version',
    });
  });

  it('publishes nothing for content the mirror already holds, whatever its key order', () => {
    const { DisplayName, ...rest } = customer();
    const change = decideChange(held(customer()), { ...rest, DisplayName }, nameList);
    assert.deepEqual(change, { kind: 'unchanged', why: 'same_content' });
  });

  it('never goes back to an older version', () => {
    const newer = customer({ SyncToken: '4', MetaData: at('2026-03-01T10:05:00-08:00') });
    assert.deepEqual(decideChange(held(newer), customer(), nameList), {
      kind: 'unchanged',
      why: 'older_version',
    });
  });

  it('compares instants across the DST fall-back hour, not strings', () => {
    // 01:30 PDT (08:30Z) is earlier than 01:10 PST (09:10Z), though the string is greater.
    const earlier = customer({ SyncToken: '0', MetaData: at('2026-11-01T01:30:00-07:00') });
    const later = customer({ SyncToken: '0', DisplayName: 'B', MetaData: at('2026-11-01T01:10:00-08:00') });
    assert.equal(decideChange(held(earlier), later, nameList).kind, 'upsert');
    assert.deepEqual(decideChange(held(later), earlier, nameList), {
      kind: 'unchanged',
      why: 'older_version',
    });
  });

  it('reports a name-list deactivation and reactivation as updates with their reason', () => {
    const inactive = customer({ SyncToken: '4', Active: false, DisplayName: 'Amy (deleted)' });
    const off = decideChange(held(customer()), inactive, nameList);
    assert.deepEqual([off.kind, (off as { reason?: string }).reason], ['upsert', 'deactivated']);
    const on = decideChange(held(inactive), customer({ SyncToken: '5' }), nameList);
    assert.equal((on as { reason?: string }).reason, 'reactivated');
  });

  it('reports a void as an update, never a delete', () => {
    const invoice = { Id: '9', SyncToken: '1', TotalAmt: 120, MetaData: at('2026-03-01T10:00:00-08:00') };
    const voided = { ...invoice, SyncToken: '2', TotalAmt: 0, PrivateNote: 'Voided' };
    const change = decideChange(held(invoice), voided, transaction);
    assert.equal(change.kind, 'upsert');
    assert.deepEqual(
      [(change as { voided: boolean }).voided, (change as { reason?: string }).reason],
      [true, 'voided'],
    );
  });

  it('deletes a transaction CDC reports deleted, and a merged-away name with its survivor', () => {
    const stub = { Id: '42', status: 'Deleted', MetaData: at('2026-03-02T10:00:00-08:00') };
    assert.deepEqual(decideChange(held(customer()), stub, transaction), {
      kind: 'delete',
      reason: 'deleted',
      entityId: '42',
      lastUpdated: Date.parse('2026-03-02T18:00:00Z'),
    });
    const merged = decideChange(held(customer()), stub, { ...nameList, mergedInto: '7' });
    assert.deepEqual([merged.kind, (merged as { mergedInto?: string }).mergedInto], ['delete', '7']);
  });

  it('ignores a delete of a record it never held or already deleted', () => {
    const stub = { Id: '42', status: 'Deleted', MetaData: at('2026-03-02T10:00:00-08:00') };
    assert.equal(decideChange(undefined, stub, transaction).kind, 'unchanged');
    assert.equal(decideChange(held(customer(), { deleted: true }), stub, transaction).kind, 'unchanged');
  });

  it('deletes a merged-away name Intuit keeps inactive when a webhook named the merge, and keeps it gone', () => {
    const loser = customer({ SyncToken: '4', Active: false, DisplayName: 'Amy (deleted)' });
    const merged = decideChange(held(customer()), loser, { ...nameList, mergedInto: '7' });
    assert.deepEqual([merged.kind, (merged as { reason?: string }).reason], ['delete', 'merged']);
    assert.equal((merged as { mergedInto?: string }).mergedInto, '7');
    const later = decideChange(held(customer(), { deleted: true, mergedAway: true }), loser, nameList);
    assert.equal(later.kind, 'unchanged', 'a later listing does not bring it back');
    const plain = decideChange(held(customer()), loser, nameList);
    assert.equal((plain as { reason?: string }).reason, 'deactivated', 'without a webhook: a deactivation');
  });

  it("marks the merge's new version of the survivor", () => {
    const survivor = customer({ SyncToken: '4', Balance: 10 });
    const change = decideChange(held(customer()), survivor, { ...nameList, mergeSurvivor: true });
    assert.deepEqual(
      [(change as { op: string }).op, (change as { reason?: string }).reason],
      ['u', 'merged_survivor'],
    );
  });
});
