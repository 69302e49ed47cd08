import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeKeysetCursor,
  decodeRunCursor,
  encodeKeysetCursor,
  encodeRunCursor,
  listCallsQuery,
  listErrorsQuery,
  listRunsQuery,
  readInput,
  scheduleBody,
  syncRequestBody,
} from './api-input.js';

const refused = (fn: () => unknown, field: string) =>
  assert.throws(fn, (err: { status?: number; code?: string; message?: string }) => {
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_request');
    assert.match(err.message ?? '', new RegExp(`^Invalid ${field.replace('.', '\\.')}:`));
    return true;
  });

describe('sync API input', () => {
  it('round-trips a run cursor with Postgres microseconds and offset exactly', () => {
    const position = {
      startedKey: '2026-12-03 14:01:48.123456+00',
      runId: '0b6f8f8e-8f0e-4a53-9d55-0c2b1d7f1a11',
    };
    assert.deepEqual(decodeRunCursor(encodeRunCursor(position)), position);
  });

  it('refuses a forged or damaged cursor as a 400 naming cursor', () => {
    refused(() => decodeRunCursor('not-base64-json'), 'cursor');
    const injected = Buffer.from(JSON.stringify({ t: "now'); drop table sync_run; --", id: 'x' })).toString(
      'base64url',
    );
    refused(() => decodeRunCursor(injected), 'cursor');
  });

  it('reads the run filters and defaults the page size to 50', () => {
    assert.deepEqual(readInput(listRunsQuery, { status: 'failed', mode: 'cdc', realmId: '4620816365' }), {
      status: 'failed',
      mode: 'cdc',
      realmId: '4620816365',
      limit: 50,
    });
  });

  it('names the field of each bad run filter', () => {
    refused(() => readInput(listRunsQuery, { status: 'done' }), 'status');
    refused(() => readInput(listRunsQuery, { mode: 'everything' }), 'mode');
    refused(() => readInput(listRunsQuery, { connectionId: 'abc' }), 'connectionId');
    refused(() => readInput(listRunsQuery, { realmId: '12a' }), 'realmId');
    refused(() => readInput(listRunsQuery, { limit: '0' }), 'limit');
    refused(() => readInput(listRunsQuery, { limit: '201' }), 'limit');
    refused(() => readInput(listCallsQuery, { cursor: '-1' }), 'cursor');
  });

  it('refuses an unknown parameter rather than ignoring it', () => {
    assert.throws(() => readInput(listRunsQuery, { stauts: 'failed' }), {
      status: 400,
      code: 'invalid_request',
    });
  });

  it('accepts one entity for a reconciliation or a full resync, never for an incremental sync', () => {
    assert.deepEqual(readInput(syncRequestBody, { mode: 'reconciliation', entity: 'Invoice' }), {
      mode: 'reconciliation',
      entity: 'Invoice',
    });
    assert.deepEqual(readInput(syncRequestBody, { mode: 'full', entity: 'Invoice' }), {
      mode: 'full',
      entity: 'Invoice',
    });
    refused(() => readInput(syncRequestBody, { mode: 'incremental', entity: 'Invoice' }), 'entity');
    refused(() => readInput(syncRequestBody, { mode: 'resync' }), 'mode');
    refused(() => readInput(syncRequestBody, null), 'request');
  });

  it('holds a company interval between the floor and the ceiling, and takes null for the default', () => {
    const schema = scheduleBody(60_000, 86_400_000);
    assert.deepEqual(readInput(schema, { intervalMs: 60_000 }), { intervalMs: 60_000 });
    assert.deepEqual(readInput(schema, { intervalMs: null }), { intervalMs: null });
    refused(() => readInput(schema, { intervalMs: 59_999 }), 'intervalMs');
    refused(() => readInput(schema, { intervalMs: 86_400_001 }), 'intervalMs');
    refused(() => readInput(schema, { intervalMs: '60000' }), 'intervalMs');
    refused(() => readInput(schema, {}), 'intervalMs');
  });

  it('reads the error filters: retryable as a boolean, state open or resolved, page size 50', () => {
    assert.deepEqual(
      readInput(listErrorsQuery, {
        connectionId: '0b6f8f8e-8f0e-4a53-9d55-0c2b1d7f1a11',
        category: 'validation',
        retryable: 'false',
        state: 'open',
        entity: 'Invoice',
      }),
      {
        connectionId: '0b6f8f8e-8f0e-4a53-9d55-0c2b1d7f1a11',
        category: 'validation',
        retryable: false,
        state: 'open',
        entity: 'Invoice',
        limit: 50,
      },
    );
    assert.equal(readInput(listErrorsQuery, { retryable: 'true' }).retryable, true);
    assert.equal(readInput(listErrorsQuery, {}).retryable, undefined, 'no filter is not `false`');
  });

  it('names the field of each bad error filter', () => {
    refused(() => readInput(listErrorsQuery, { connectionId: 'abc' }), 'connectionId');
    refused(() => readInput(listErrorsQuery, { runId: '1' }), 'runId');
    refused(() => readInput(listErrorsQuery, { category: 'boom' }), 'category');
    refused(() => readInput(listErrorsQuery, { retryable: 'yes' }), 'retryable');
    refused(() => readInput(listErrorsQuery, { state: 'closed' }), 'state');
    refused(() => readInput(listErrorsQuery, { entity: "Invoice'; --" }), 'entity');
    refused(() => readInput(listErrorsQuery, { limit: '0' }), 'limit');
    refused(() => readInput(listErrorsQuery, { resolved: 'true' }), 'request');
  });

  it('round-trips an error cursor and refuses a damaged one naming cursor', () => {
    const position = { key: '2026-12-03 14:01:48.5+00', id: '0b6f8f8e-8f0e-4a53-9d55-0c2b1d7f1a11' };
    assert.deepEqual(decodeKeysetCursor(encodeKeysetCursor(position)), position);
    refused(() => decodeKeysetCursor(encodeKeysetCursor({ key: 'yesterday', id: position.id })), 'cursor');
  });
});
