import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSimulator, type Simulator } from './index.js';
import { api, BASIC, type Connection, connect, query } from './testing/connect.js';

/** The behaviours a sync trips over, over real HTTP, driven through the control API as another process would. */
let sim: Simulator;
let conn: Connection;

before(async () => {
  sim = await createSimulator({
    seed: { seed: 21, companies: 1, records: 300 },
    clock: { start: '2026-03-01T12:00:00Z' },
    control: true,
    limits: { enabled: false },
  });
  conn = await connect(sim, sim.control.companies()[0]?.realmId);
});

after(() => sim.close());

const control = (path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST') =>
  fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const json = async <T = Record<string, unknown>>(response: Response) => (await response.json()) as T;
type FaultBody = { Fault: { type: string; Error: { code: string; Message: string; Detail: string }[] } };
const transfers = () => sim.control.companies()[0]?.counts.Transfer ?? 0;

describe('requestid under concurrency', () => {
  // A Transfer has no unique name, so nothing but the requestid could stop a second record. Each body
  // (with its Content-Length, so it is read from the socket by the route itself) arrives in two parts
  // 100 ms apart: every request is past the requestid check before any body is complete.
  test('ten concurrent creates with one requestid make one record and ten identical answers', async () => {
    const before = transfers();
    const text = JSON.stringify({ FromAccountRef: { value: '1' }, ToAccountRef: { value: '2' }, Amount: 10 });
    const slowBody = () =>
      new ReadableStream<Uint8Array>({
        async start(stream) {
          stream.enqueue(new TextEncoder().encode(text.slice(0, 10)));
          await new Promise((resolve) => setTimeout(resolve, 100));
          stream.enqueue(new TextEncoder().encode(text.slice(10)));
          stream.close();
        },
      });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        api(sim, conn, 'transfer?requestid=concurrent-1', {
          method: 'POST',
          body: slowBody(),
          duplex: 'half',
          headers: { 'content-length': String(text.length) },
        } as RequestInit).then((r) => r.text()),
      ),
    );
    assert.equal(transfers(), before + 1);
    assert.equal(new Set(answers).size, 1);
    assert.equal(JSON.parse(answers[0] ?? '{}').Transfer.Amount, 10);
  });
});

describe('poison records', () => {
  const page = (from: number) =>
    query(sim, conn, `select * from Invoice startposition ${from} maxresults 10`);

  test('fail every page and CDC window holding the record with 4002, until the fault is removed', async () => {
    sim.control.change(conn.realmId, {
      op: 'update',
      entity: 'Invoice',
      id: '5',
      data: { PrivateNote: 'x' },
    });
    const changedAt = sim.control.clock.now();
    const rule = await json<{ id: number }>(
      await control('/faults', {
        kind: 'poison',
        realmId: conn.realmId,
        entity: 'Invoice',
        recordId: '5',
        code: '4002',
      }),
    );
    const poisoned = await page(1);
    assert.equal(poisoned.status, 400);
    const fault = await json<FaultBody>(poisoned);
    assert.equal(fault.Fault.Error[0]?.code, '4002');
    assert.match(fault.Fault.Error[0]?.Detail ?? '', /^QueryProcessingError: /);
    assert.equal((await page(11)).status, 200, 'a page without the record is served');
    const counted = await query(sim, conn, 'select count(*) from Invoice');
    assert.equal(counted.status, 200, 'COUNT reads no record, so narrowing by count works');
    const cdc = (from: number) =>
      api(sim, conn, `cdc?entities=Invoice&changedSince=${new Date(from).toISOString()}`);
    assert.equal((await cdc(changedAt - 1000)).status, 400, 'a CDC window holding it fails');
    assert.equal((await cdc(changedAt + 1000)).status, 200, 'a CDC window without it is served');
    assert.equal((await api(sim, conn, 'invoice/5')).status, 400);
    assert.equal((await control(`/faults/${rule.id}`, undefined, 'DELETE')).status, 204);
    assert.equal((await page(1)).status, 200);
    assert.equal((await cdc(changedAt - 1000)).status, 200);
  });

  test('answer a SystemFault 10000 with HTTP 500 when armed with that code, in CDC too', async () => {
    sim.control.change(conn.realmId, { op: 'update', entity: 'Customer', id: '3', data: { Notes: 'fresh' } });
    const rule = sim.control.addFault({ kind: 'poison', entity: 'Customer', recordId: '3', code: '10000' });
    try {
      const since = new Date(sim.control.clock.now() - 60_000).toISOString();
      const cdc = await api(sim, conn, `cdc?entities=Customer&changedSince=${since}`);
      assert.equal(cdc.status, 500);
      assert.equal((await json<FaultBody>(cdc)).Fault.Error[0]?.code, '10000');
      const later = new Date(sim.control.clock.now() + 1000).toISOString();
      assert.equal((await api(sim, conn, `cdc?entities=Customer&changedSince=${later}`)).status, 200);
    } finally {
      sim.control.removeFault(rule.id);
    }
  });
});

describe('bulk edits in one second', () => {
  test('stamps 1,500 changes with one LastUpdatedTime second', async () => {
    const at = '2026-03-01T12:30:00.000Z';
    const changes = Array.from({ length: 1500 }, (_, i) => ({
      op: 'create',
      entity: 'Vendor',
      data: { DisplayName: `Bulk Vendor ${i}` },
    }));
    const response = await control(`/companies/${conn.realmId}/changes/bulk`, { at, changes });
    assert.equal(response.status, 200);
    const result = await json<{ applied: number; ids: string[] }>(response);
    assert.equal(result.applied, 1500);
    const tied = await json<{ QueryResponse: { totalCount: number } }>(
      await query(sim, conn, `select count(*) from Vendor where MetaData.LastUpdatedTime = '${at}'`),
    );
    assert.equal(tied.QueryResponse.totalCount, 1500);
    const [first] = (
      await json<{ Vendor: { MetaData: { LastUpdatedTime: string } } }>(
        await api(sim, conn, `vendor/${result.ids[0]}`),
      )
    ).Vendor.MetaData.LastUpdatedTime.split('T');
    assert.equal(first, '2026-03-01');
  });
});

describe('control API input', () => {
  test('refuses a bulk change with a bad instant and a poison fault without its record, saying why', async () => {
    const bulk = await control(`/companies/${conn.realmId}/changes/bulk`, {
      at: 'not a date',
      changes: [{ op: 'create', entity: 'Vendor', data: { DisplayName: 'Never' } }],
    });
    assert.equal(bulk.status, 400);
    const body = await json<{ code: string; detail: string }>(bulk);
    assert.equal(body.code, 'invalid_request');
    assert.match(body.detail, /not a date-time/);
    const poison = await control('/faults', { kind: 'poison', entity: 'Invoice' });
    assert.equal(poison.status, 400);
    assert.match((await json<{ detail: string }>(poison)).detail, /needs entity and recordId/);
    assert.equal(sim.control.faults().length, 0);
  });
});

describe('throttling as Intuit counts it', () => {
  const withLimit = (perMinutePerRealm: number, countThrottled: boolean) => {
    sim.control.setLimits({ enabled: true, perMinutePerRealm, countThrottled });
    sim.control.resetLimits();
    sim.control.clock.freeze();
  };
  const restore = () => {
    sim.control.setLimits({ enabled: false, perMinutePerRealm: 500, countThrottled: false });
    sim.control.clock.unfreeze();
  };
  const read = (accept = 'application/json') => api(sim, conn, 'customer/1', { headers: { accept } });

  test('answers 429 in XML when the request asks for XML, in JSON otherwise, and in XML always under the xml policy', async () => {
    withLimit(1, false);
    try {
      assert.equal((await read()).status, 200);
      const xml = await read('application/xml');
      assert.equal(xml.status, 429);
      assert.match(xml.headers.get('content-type') ?? '', /^application\/xml/);
      const text = await xml.text();
      assert.match(text, /<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded/);
      assert.match((await read()).headers.get('content-type') ?? '', /^application\/json/);
      await control('/policies', { throttleFormat: 'xml' });
      assert.match((await read()).headers.get('content-type') ?? '', /^application\/xml/);
    } finally {
      await control('/policies', { throttleFormat: 'accept' });
      restore();
    }
  });

  test('does not count throttled requests against the window, unless countThrottled is set', async () => {
    for (const countThrottled of [false, true]) {
      withLimit(3, countThrottled);
      try {
        for (let i = 0; i < 3; i++) assert.equal((await read()).status, 200);
        sim.control.clock.advance(30_000);
        for (let i = 0; i < 5; i++) assert.equal((await read()).status, 429);
        // The three admitted requests have left the minute; only counted refusals are still in it.
        sim.control.clock.advance(31_000);
        assert.equal((await read()).status, countThrottled ? 429 : 200, `countThrottled ${countThrottled}`);
      } finally {
        restore();
      }
    }
  });
});

describe('unknown entities and entity URL casing', () => {
  test('answer Intuit fault shapes on every surface, never a bare 404', async () => {
    for (const [path, init] of [
      ['widget/1', {}],
      ['widget', { method: 'POST', body: '{}' }],
    ] as const) {
      const response = await api(sim, conn, path, init);
      assert.equal(response.status, 400, path);
      const fault = await json<FaultBody>(response);
      assert.equal(fault.Fault.Error[0]?.code, '500');
      assert.match(
        fault.Fault.Error[0]?.Detail ?? '',
        /Could not find resource for relative : \/v3\/company/,
      );
    }
    const queried = await json<FaultBody>(await query(sim, conn, 'select * from Widget'));
    assert.equal(queried.Fault.Error[0]?.code, '4001');
    const since = new Date(sim.control.clock.now() - 60_000).toISOString();
    const cdc = await json<FaultBody>(await api(sim, conn, `cdc?entities=Widget&changedSince=${since}`));
    assert.equal(cdc.Fault.Error[0]?.code, '2010');
    const batch = await json<{ BatchItemResponse: FaultBody[] }>(
      await api(sim, conn, 'batch', {
        method: 'POST',
        body: JSON.stringify({ BatchItemRequest: [{ bId: '1', operation: 'create', Widget: {} }] }),
      }),
    );
    assert.equal(batch.BatchItemResponse[0]?.Fault.Error[0]?.code, '2010');
  });

  test('serve entity paths in lower case only, unless the entityUrlCase policy is any', async () => {
    const code = async (path: string) =>
      (await json<FaultBody>(await api(sim, conn, path, { method: 'POST', body: '{}' }))).Fault.Error[0]
        ?.code;
    assert.equal(await code('journalentry'), '2020', 'served: the empty body misses its Line');
    assert.equal(await code('JournalEntry'), '500', 'not served: an unknown resource');
    assert.equal((await api(sim, conn, 'customer/1')).status, 200);
    assert.equal((await api(sim, conn, 'Customer/1')).status, 400);
    await control('/policies', { entityUrlCase: 'any' });
    try {
      assert.equal((await api(sim, conn, 'Customer/1')).status, 200);
    } finally {
      await control('/policies', { entityUrlCase: 'lowercase' });
    }
  });
});

describe('auth answers', () => {
  test('revoke answers 400 for a token Intuit does not know', async () => {
    const response = await fetch(`${sim.url}/v2/oauth2/tokens/revoke`, {
      method: 'POST',
      headers: { authorization: BASIC, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: 'AB11never-issued-refresh-token-000000000000000000' }),
    });
    assert.equal(response.status, 400);
  });

  test('a 401 names the token as Intuit does: "Token expired: AB0<seconds><37 letters and digits>"', async () => {
    sim.control.clock.advance(3_600_000);
    try {
      const body = await json<{ fault: { error: { detail: string }[] } }>(await api(sim, conn, 'customer/1'));
      assert.match(body.fault.error[0]?.detail ?? '', /^Token expired: AB0\d{10}[A-Za-z0-9]{37}$/);
    } finally {
      sim.control.clock.advance(-3_600_000);
    }
  });
});
