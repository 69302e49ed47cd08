import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '@qbo/qbo-simulator';
import { connect as connectRealm } from '@qbo/qbo-simulator/testing';
import { createBudget } from '../budget/budget.js';
import { budgetLimits } from '../budget/limits.js';
import { createMemoryBudgetStore } from '../budget/memory-store.js';
import { isQboError } from '../errors.js';
import { captureLog } from '../testing/capture-log.js';
import { memorySink } from '../testing/memory-sink.js';
import { createSimulatorTokenProvider } from '../testing/simulator-tokens.js';
import { createQboClient, type QboClient } from './client.js';
import type { QboObject } from './context.js';

let sim: Simulator;
let realmId: string;
let client: QboClient;
const sink = memorySink();
const ctx = { orgId: 'org-ops', correlationId: 'sync-run-1' };

before(async () => {
  sim = await createSimulator({ seed: { seed: 7, companies: 1, records: 200 } });
  realmId = sim.control.companies()[0]?.realmId ?? '';
  const tokens = createSimulatorTokenProvider({
    url: sim.url,
    connections: [await connectRealm(sim, realmId)],
  });
  client = createQboClient({
    baseUrl: sim.url,
    tokens,
    budget: createBudget({ store: createMemoryBudgetStore(budgetLimits()) }),
    apiLog: sink,
    log: captureLog().log,
  });
});

after(() => sim.close());

describe('client operations against the simulator', () => {
  it('reads a page of a typed query', async () => {
    const page = await client.query(
      realmId,
      { entity: 'Customer', orderBy: { field: 'Id' }, startPosition: 3, maxResults: 5 },
      ctx,
    );
    assert.equal(page.entity, 'Customer');
    assert.equal(page.rows.length, 5);
    assert.equal(page.startPosition, 3);
    assert.equal(typeof page.rows[0]?.Id, 'string');
  });

  it('finds a name holding quotes and backslashes as data, never as query text', async () => {
    const name = "O'Brien \\' OR Id = '1";
    const created = await client.create(realmId, 'Customer', { DisplayName: name }, ctx);
    const page = await client.query(
      realmId,
      { entity: 'Customer', where: [{ field: 'DisplayName', op: '=', value: name }] },
      ctx,
    );
    assert.deepEqual(
      page.rows.map((r) => r.Id),
      [created.Id],
    );
  });

  it('counts', async () => {
    const page = await client.query(realmId, { entity: 'Vendor', count: true }, ctx);
    assert.ok((page.totalCount ?? 0) > 0);
  });

  it('reads one record by id', async () => {
    const customer = await client.read(realmId, 'Customer', '1', ctx);
    assert.equal(customer.Id, '1');
  });

  it('updates sparsely: only the fields sent change', async () => {
    const before = await client.read<QboObject & { DisplayName: string }>(realmId, 'Customer', '2', ctx);
    const updated = await client.update<QboObject & { DisplayName: string; Notes: string }>(
      realmId,
      'Customer',
      { Id: '2', SyncToken: before.SyncToken ?? '', Notes: 'changed' },
      ctx,
    );
    assert.equal(updated.Notes, 'changed');
    assert.equal(updated.DisplayName, before.DisplayName);
    assert.equal(Number(updated.SyncToken), Number(before.SyncToken) + 1);
  });

  it('deletes a transaction', async () => {
    const page = await client.query(realmId, { entity: 'Invoice', maxResults: 1 }, ctx);
    const invoice = page.rows[0] as QboObject;
    const deleted = await client.delete(
      realmId,
      'Invoice',
      { Id: invoice.Id ?? '', SyncToken: invoice.SyncToken ?? '' },
      ctx,
    );
    assert.equal(deleted.status, 'Deleted');
    await assert.rejects(client.read(realmId, 'Invoice', invoice.Id ?? '', ctx), (err) => {
      assert.ok(isQboError(err) && err.category === 'not_found');
      return true;
    });
  });

  it('gets changes across entities with CDC', async () => {
    const since = new Date(sim.control.clock.now() - 60_000);
    await client.create(realmId, 'Vendor', { DisplayName: 'CDC Supplies' }, ctx);
    const result = await client.cdc(realmId, ['Customer', 'Vendor'], since, ctx);
    assert.ok(result.changes.Vendor?.some((v) => v.DisplayName === 'CDC Supplies'));
    assert.equal(result.truncated, false);
  });

  it('runs a batch whose items succeed or fail on their own', async () => {
    const results = await client.batch(
      realmId,
      [
        { bId: 'a', operation: 'create', entity: 'Customer', object: { DisplayName: 'Batch One' } },
        { bId: 'b', operation: 'create', entity: 'Customer', object: { DisplayName: 'Batch One' } },
        { bId: 'c', query: { entity: 'Customer', where: [{ field: 'Id', op: '=', value: '1' }] } },
      ],
      ctx,
    );
    assert.equal(results[0]?.ok, true);
    const dup = results[1];
    assert.ok(dup && !dup.ok && dup.error.category === 'validation' && dup.error.code === '6240');
    const query = results[2];
    assert.ok(query?.ok && 'query' in query && query.query.rows[0]?.Id === '1');
    assert.match(query.query.time ?? '', /^\d{4}-\d\d-\d\dT/, "Intuit's clock when it answered");
    // The log says what each item asked, but never carries an object written.
    const logged = sink.rows.filter((r) => r.operation === 'batch').at(-1)?.query ?? '';
    assert.match(
      logged,
      /^items=a: create Customer; b: create Customer; c: SELECT \* FROM Customer WHERE Id = '1'/i,
    );
    assert.doesNotMatch(logged, /Batch One/);
  });

  it('sends minorversion on every request and a requestid on every write', async () => {
    const writes = sink.rows.filter((r) => r.method === 'POST' && r.operation !== 'query');
    assert.ok(writes.length > 0);
    assert.ok(sink.rows.every((r) => r.query?.includes('minorversion=75')));
    assert.ok(writes.every((r) => /requestid=[0-9a-f-]{36}/.test(r.query ?? '')));
  });

  it('logs each attempt with its org, correlation id, status and intuit_tid', async () => {
    const row = sink.rows.find((r) => r.operation === 'read' && r.status === 200);
    assert.ok(row);
    assert.equal(row.orgId, 'org-ops');
    assert.equal(row.correlationId, 'sync-run-1');
    assert.equal(row.path, `/v3/company/${realmId}/customer/1`);
    assert.match(row.intuitTid ?? '', /^1-/);
    assert.equal(row.attempt, 1);
    assert.ok((row.responseBytes ?? 0) > 0);
  });
});
