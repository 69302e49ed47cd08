import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '@qbo/service-kit';
import { waitFor } from '@qbo/testkit';
import type { ApiLogRow } from './row.js';
import { createApiLogWriter } from './writer.js';

const log = createLogger({ service: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

const aRow = (attempt = 1): ApiLogRow => ({
  at: new Date(),
  orgId: 'org-1',
  realmId: '9130000000000001',
  operation: 'read',
  method: 'GET',
  path: '/v3/company/9130000000000001/customer/1',
  query: 'minorversion=75',
  entityType: 'Customer',
  entityId: '1',
  status: 200,
  faultCode: null,
  category: null,
  intuitTid: '1-abc',
  attempt,
  budgetWaitMs: 0,
  retryDelayMs: 0,
  durationMs: 3,
  requestBytes: 0,
  responseBytes: 120,
  traceId: null,
  spanId: null,
  correlationId: 'run-1',
});

/** A store whose inserts wait until the test lets them finish. */
function gatedStore() {
  const batches: ApiLogRow[][] = [];
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  return {
    batches,
    hold() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release: () => open(),
    store: {
      async insert(rows: readonly ApiLogRow[]) {
        await gate;
        batches.push([...rows]);
      },
    },
  };
}

describe('api log writer', () => {
  it('returns from write at once while the store is still busy', async () => {
    const s = gatedStore();
    s.hold();
    const writer = createApiLogWriter({ store: s.store, log, maxBatch: 2 });
    const started = performance.now();
    for (let i = 0; i < 100; i++) writer.write(aRow(i));
    assert.ok(performance.now() - started < 50);
    assert.equal(s.batches.length, 0);
    s.release();
    await writer.close();
    assert.equal(s.batches.flat().length, 100);
  });

  it('inserts a full batch without waiting for the timer', async () => {
    const s = gatedStore();
    const writer = createApiLogWriter({ store: s.store, log, maxBatch: 3, flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) writer.write(aRow(i));
    await waitFor(() => s.batches.length === 1, { what: 'one batch' });
    assert.equal(s.batches[0]?.length, 3);
    await writer.close();
  });

  it('inserts a partial batch when the interval passes', async () => {
    const s = gatedStore();
    const writer = createApiLogWriter({ store: s.store, log, maxBatch: 100, flushIntervalMs: 20 });
    writer.write(aRow());
    await waitFor(() => s.batches.length === 1, { what: 'the timed flush' });
    await writer.close();
  });

  it('keeps rows of a failed insert for the next flush', async () => {
    let fail = true;
    const inserted: ApiLogRow[] = [];
    const writer = createApiLogWriter({
      store: {
        async insert(rows) {
          if (fail) throw new Error('database down');
          inserted.push(...rows);
        },
      },
      log,
      flushIntervalMs: 60_000,
    });
    writer.write(aRow(1));
    writer.write(aRow(2));
    await writer.flush();
    assert.equal(inserted.length, 0);
    assert.equal(writer.buffered, 2, 'a flush that failed says so: both rows wait');
    fail = false;
    await writer.close();
    assert.equal(writer.buffered, 0);
    assert.deepEqual(
      inserted.map((r) => r.attempt),
      [1, 2],
    );
  });

  it('drops the oldest rows beyond its bound and counts them', async () => {
    const writer = createApiLogWriter({
      store: {
        insert: () => Promise.reject(new Error('database down')),
      },
      log,
      maxBatch: 1_000,
      maxBuffered: 5,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 8; i++) writer.write(aRow(i));
    assert.equal(writer.dropped, 3);
    await writer.close();
  });
});
