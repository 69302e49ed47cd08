import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type FeedEvent, FeedTable, keyOf } from './table.js';

const seq = (n: number) => String(n).padStart(20, '0');
const realmId = '123';
const upsert = (
  orgId: string,
  n: number,
  entityId: string,
  after: Record<string, unknown> = {},
): FeedEvent => ({
  type: 'RecordUpserted',
  orgId,
  data: { seq: seq(n), realmId, entity: 'Customer', entityId, after, voided: false },
});
const deleted = (orgId: string, n: number, entityId: string): FeedEvent => ({
  type: 'RecordDeleted',
  orgId,
  data: { seq: seq(n), realmId, entity: 'Customer', entityId },
});
const state = (e: FeedEvent): FeedEvent => ({ ...e, type: 'RecordState' });
const key = (orgId: string, id: string) => keyOf(orgId, { realmId, entity: 'Customer', entityId: id });

describe('the downstream table', () => {
  it('keeps the newest seq per key while bootstrapping, and a tombstone deletes', () => {
    const t = new FeedTable();
    t.applyState(key('o', '1'), state(upsert('o', 1, '1', { v: 1 })));
    t.applyState(key('o', '1'), state(upsert('o', 3, '1', { v: 3 })));
    t.applyState(key('o', '2'), state(upsert('o', 2, '2')));
    t.applyState(key('o', '2'), null, seq(4));
    assert.deepEqual(Object.keys(t.snapshot()), [key('o', '1')]);
    assert.deepEqual(t.snapshot()[key('o', '1')]?.after, { v: 3 });
  });

  it('drops every record of a company purged by the platform, and only that company', () => {
    const t = new FeedTable();
    t.applyLog(upsert('o', 1, '1'));
    t.applyLog(upsert('o', 2, '2'));
    t.applyLog(upsert('p', 1, '1'));
    // An org whose id holds ':' has keys that begin with org o's prefix (`o:123:`): they are not o's.
    t.applyLog(upsert(`o:${realmId}`, 1, '1'));
    t.applyLog({ type: 'ConnectionDataPurged', orgId: 'o', data: { seq: seq(3), realmId } });
    assert.deepEqual(Object.keys(t.snapshot()).sort(), [key('p', '1'), key(`o:${realmId}`, '1')].sort());
  });

  it('applies a log event only when its seq is newer than the record’s', () => {
    const t = new FeedTable();
    t.applyState(key('o', '1'), state(upsert('o', 5, '1', { v: 5 })));
    assert.equal(t.applyLog(upsert('o', 4, '1', { v: 4 })).applied, false, 'older, from the overlap');
    assert.equal(t.applyLog(upsert('o', 5, '1', { v: 5 })).applied, false, 'the same version again');
    assert.equal(t.applyLog(upsert('o', 6, '1', { v: 6 })).applied, true);
    assert.deepEqual(t.snapshot()[key('o', '1')]?.after, { v: 6 });
  });

  it('does not let an older upsert bring a deleted record back', () => {
    const t = new FeedTable();
    t.applyState(key('o', '1'), null, seq(7));
    assert.equal(t.applyLog(upsert('o', 6, '1')).applied, false);
    assert.equal(t.applyLog(deleted('o', 8, '1')).applied, true);
    assert.equal(t.applyLog(upsert('o', 9, '1')).applied, true);
    assert.equal(t.size, 1);
  });

  it('reports a jump in an org’s seq on the log, but not a duplicate or the overlap with the state', () => {
    const t = new FeedTable();
    t.applyState(key('a', '1'), state(upsert('a', 10, '1')));
    assert.equal(t.applyLog(upsert('a', 9, '1')).gap, undefined, 'the overlap before the snapshot');
    assert.equal(t.applyLog(upsert('a', 10, '1')).gap, undefined);
    assert.equal(t.applyLog(upsert('a', 11, '2')).gap, undefined);
    assert.equal(t.applyLog(upsert('a', 11, '2')).gap, undefined, 'a duplicate');
    assert.deepEqual(t.applyLog(upsert('a', 14, '3')).gap, { orgId: 'a', expected: seq(12), got: seq(14) });
    assert.equal(t.applyLog(upsert('a', 15, '3')).gap, undefined, 'contiguous again after the jump');
    assert.equal(t.gaps.length, 1);
  });

  it('does not take the first log event after the state’s highest seq for a gap: snapshot markers sit between', () => {
    const t = new FeedTable();
    t.applyState(key('b', '1'), state(upsert('b', 3, '1')));
    // seq 4 was a RecordSnapshotCompleted, read before T0 − margin: it is on the log only.
    assert.equal(t.applyLog(upsert('b', 5, '2')).gap, undefined);
    assert.equal(t.size, 2);
  });
});

describe('the example package', () => {
  it('depends on kafkajs and the schema registry client only', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@kafkajs/confluent-schema-registry', 'kafkajs']);
    assert.equal(pkg.devDependencies, undefined);
  });
});
