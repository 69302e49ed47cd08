import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type CatalogEvent, stateKey, topics } from '@qbo/events';
import {
  createTestDatabase,
  repoRoot,
  type ServiceProcess,
  startProcess,
  type TestDatabase,
  testBrokers,
  waitFor,
} from '@qbo/testkit';
import { createRegistrySerde } from '../serde/registry-serde.js';
import { createTestBus, type TestBus } from '../testing/bus.js';
import { type Deleted, type FeedScript, feedScript, type Upserted } from '../testing/feed.js';
import { outboxDrained, startTestRelay } from '../testing/outbox.js';
import { type RegistryDouble, startRegistryDouble } from '../testing/registry-double.js';
import { openTestStore, testSchema } from '../testing/store.js';
import { createOutbox } from './outbox.js';
import type { OutboxRelay } from './relay.js';

/** What the downstream table must hold: the latest payload and seq of every live record, by state key. */
type Expected = Map<string, { seq: string; after: unknown }>;

function expectedAfter(expected: Expected, events: readonly (Upserted | Deleted)[]) {
  for (const e of events) {
    const key = stateKey({ orgId: e.orgId, ...e.data });
    if (e.type === 'RecordDeleted') expected.delete(key);
    else expected.set(key, { seq: e.data.seq, after: e.data.after });
  }
}

describe('the downstream example consumer (kafkajs and the registry client only)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let bus: TestBus;
  let registry: RegistryDouble;
  let relay: OutboxRelay;
  let example: ServiceProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'downstream-'));
  const tableFile = join(dir, 'table.json');
  const outbox = createOutbox({ schema: testSchema });
  const expected: Expected = new Map();

  const write = async (events: readonly (Upserted | Deleted)[]) => {
    await orm.em.fork().transactional((em) => outbox.add(em, events as readonly CatalogEvent[]));
    expectedAfter(expected, events);
    await outboxDrained(db);
  };
  const table = (): Record<string, { seq: string; after: unknown }> =>
    existsSync(tableFile) ? JSON.parse(readFileSync(tableFile, 'utf8')) : {};
  const tableMatches = () => {
    const seen = table();
    const want = Object.fromEntries(expected);
    const got = Object.fromEntries(Object.entries(seen).map(([k, r]) => [k, { seq: r.seq, after: r.after }]));
    try {
      assert.deepEqual(got, want);
      return true;
    } catch {
      return false;
    }
  };

  before(async () => {
    db = await createTestDatabase('downstream');
    orm = await openTestStore(db);
    registry = await startRegistryDouble();
    bus = await createTestBus({ topics: [topics.records, topics.recordsState] });
    relay = startTestRelay(db, bus, { serde: createRegistrySerde({ url: registry.url }) });
  });
  after(async () => {
    await example?.stop();
    await relay?.stop();
    await registry?.stop();
    await orm?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bootstraps from the state topic, switches to the log, ends equal to the records, and reports a seq gap', async () => {
    const a: FeedScript = feedScript({ orgId: 'org-down-a' });
    const b: FeedScript = feedScript({ orgId: 'org-down-b', realmId: '4620816365' });

    // History: creates, updates and deletes in both orgs, before the consumer exists.
    await write([1, 2, 3, 4, 5, 6].map((i) => a.upsert('Customer', String(i), { Id: String(i), v: 0 })));
    await write([1, 2, 3, 4].map((i) => b.upsert('Item', String(i), { Id: String(i), v: 0 })));
    await write([
      a.upsert('Customer', '1', { Id: '1', v: 1 }),
      a.delete('Customer', '3'),
      a.upsert('Invoice', '10', { Id: '10', v: 0 }),
      b.upsert('Item', '4', { Id: '4', v: 1 }),
      a.upsert('Invoice', '11', { Id: '11', v: 0 }),
      b.delete('Item', '2'),
      a.delete('Invoice', '11'),
      a.upsert('Customer', '2', { Id: '2', v: 1 }),
    ]);
    const historyRecords = expected.size;
    // T0 − margin falls after the history: what the consumer holds of it can only come from the state topic.
    await sleep(1_500);

    example = await startProcess({
      entry: join(repoRoot(), 'examples/downstream-consumer/dist/main.js'),
      env: {
        KAFKA_BROKERS: testBrokers().join(','),
        SCHEMA_REGISTRY_URL: registry.url,
        TOPIC_PREFIX: bus.prefix,
        MARGIN_MS: '500',
        TABLE_FILE: tableFile,
      },
      waitForStart: false,
    });
    const booted = await example.waitForLog((l) => l.event === 'bootstrapped', 60_000);
    assert.equal(booted.records, historyRecords);
    assert.ok(
      Number(booted.stateMessages) > historyRecords,
      'it read superseded versions and tombstones too',
    );
    await example.waitForLog((l) => l.event === 'following', 60_000);
    await waitFor(tableMatches, { timeoutMs: 30_000, what: 'the bootstrapped table' });

    // Changes and deletes written after the switch arrive through the log.
    await write([
      a.upsert('Customer', '1', { Id: '1', v: 2 }),
      b.delete('Item', '1'),
      a.delete('Customer', '2'),
      b.upsert('Item', '5', { Id: '5', v: 0 }),
      a.upsert('Customer', '7', { Id: '7', v: 0 }),
      a.upsert('Invoice', '10', { Id: '10', v: 1 }),
      b.upsert('Item', '5', { Id: '5', v: 1 }),
    ]);
    await waitFor(tableMatches, {
      timeoutMs: 60_000,
      what: `the table to equal the records: ${readFileSync(tableFile, 'utf8')}`,
    });
    assert.ok(!example.logs.some((l) => l.event === 'gap'), 'no gap in a complete feed');

    // Two events of org b lost: the next one shows the jump.
    b.skip(2);
    const afterGap = b.upsert('Item', '6', { Id: '6', v: 0 });
    await write([afterGap]);
    const gap = await example.waitForLog((l) => l.event === 'gap', 30_000);
    const got = BigInt(afterGap.data.seq);
    assert.deepEqual(
      {
        orgId: gap.orgId,
        expected: BigInt(String(gap.expected)),
        got: BigInt(String(gap.got)),
      },
      { orgId: 'org-down-b', expected: got - 2n, got },
    );
    await waitFor(tableMatches, { timeoutMs: 30_000, what: 'the record after the gap' });
  });
});
