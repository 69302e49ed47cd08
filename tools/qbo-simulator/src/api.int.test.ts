import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@qbo/testkit';
import { createSimulator, type Simulator } from './index.js';
import { api, type Connection, connect, query } from './testing/connect.js';

let sim: Simulator;
let conn: Connection;
let other: Connection;

before(async () => {
  sim = await createSimulator({
    seed: { seed: 11, companies: 2, records: 200 },
    clock: { start: '2026-03-01T12:00:00Z' },
    requestTimeoutMs: 300,
    maxBodyBytes: 64 * 1024,
  });
  const [first, second] = sim.control.companies();
  conn = await connect(sim, first?.realmId);
  other = await connect(sim, second?.realmId);
});

after(() => sim.close());

/** Each test that counts requests starts from fresh windows and a stopped clock it moves itself. */
function freshLimits() {
  sim.control.setLimits({ enabled: true });
  sim.control.resetLimits();
  sim.control.clock.freeze();
}

/** Tests about other behaviour send requests faster than 10 a second; Intuit's limits would get in the way. */
const withoutLimits = () => sim.control.setLimits({ enabled: false });

describe('accounting API over HTTP', () => {
  before(withoutLimits);
  test('answers every response with an intuit_tid', async () => {
    const response = await query(sim, conn, 'select * from Customer maxresults 1');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('intuit_tid') ?? '', /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  test('runs a query posted as an application/text body, as python-quickbooks sends it', async () => {
    const response = await api(sim, conn, 'query?minorversion=75', {
      method: 'POST',
      body: "select * from Customer where Id = '1'",
      headers: { 'content-type': 'application/text' },
    });
    const body = (await response.json()) as { QueryResponse: { Customer: { Id: string }[] } };
    assert.deepEqual(
      body.QueryResponse.Customer.map((c) => c.Id),
      ['1'],
    );
  });

  test('reads an inactive record by id although queries hide it', async () => {
    const created = (await (
      await api(sim, conn, 'customer', {
        method: 'POST',
        body: JSON.stringify({ DisplayName: 'Soon Inactive' }),
      })
    ).json()) as { Customer: { Id: string; SyncToken: string } };
    const { Id, SyncToken } = created.Customer;
    const update = await api(sim, conn, 'customer', {
      method: 'POST',
      body: JSON.stringify({ Id, SyncToken, sparse: true, Active: false }),
    });
    assert.equal(update.status, 200);
    const again = (await (await api(sim, conn, `customer/${Id}`)).json()) as {
      Customer: { Active: boolean; DisplayName: string };
    };
    assert.equal(again.Customer.Active, false);
    assert.equal(again.Customer.DisplayName, 'Soon Inactive (deleted)');
    const hidden = (await (await query(sim, conn, `select * from Customer where Id = '${Id}'`)).json()) as {
      QueryResponse: object;
    };
    assert.deepEqual(hidden.QueryResponse, {});
  });

  test('replays a requestid with the byte-identical original answer and no second record', async () => {
    const create = () =>
      api(sim, conn, 'customer?requestid=req-replay-1&minorversion=75', {
        method: 'POST',
        body: JSON.stringify({ DisplayName: 'Replay Ltd' }),
      });
    const first = await (await create()).text();
    sim.control.clock.advance(5_000);
    const second = await (await create()).text();
    assert.equal(second, first);
    const count = await (
      await query(sim, conn, "select count(*) from Customer where DisplayName = 'Replay Ltd'")
    ).json();
    assert.deepEqual((count as { QueryResponse: unknown }).QueryResponse, { totalCount: 1 });
  });

  test('replays a failed write with its original fault', async () => {
    const post = () =>
      api(sim, conn, 'customer?requestid=req-replay-2', {
        method: 'POST',
        body: JSON.stringify({ Id: '1', SyncToken: '99', sparse: true, Notes: 'x' }),
      });
    const first = await post();
    const text = await first.text();
    assert.equal(first.status, 400);
    const second = await post();
    assert.equal(second.status, 400);
    assert.equal(await second.text(), text);
  });

  test('rejects a requestid longer than 50 characters', async () => {
    const response = await api(sim, conn, `customer?requestid=${'x'.repeat(51)}`, {
      method: 'POST',
      body: JSON.stringify({ DisplayName: 'Long Id' }),
    });
    assert.equal(response.status, 400);
    assert.equal(
      ((await response.json()) as { Fault: { Error: { code: string }[] } }).Fault.Error[0]?.code,
      '6000',
    );
  });

  test('answers a stale update with Intuit stale-object fault', async () => {
    const read = (await (await api(sim, conn, 'customer/2')).json()) as { Customer: { SyncToken: string } };
    const update = (syncToken: string) =>
      api(sim, conn, 'customer?operation=update', {
        method: 'POST',
        body: JSON.stringify({ Id: '2', SyncToken: syncToken, sparse: true, Notes: 'n' }),
      });
    assert.equal((await update(read.Customer.SyncToken)).status, 200);
    const stale = await update(read.Customer.SyncToken);
    assert.equal(stale.status, 400);
    const body = (await stale.json()) as { Fault: { type: string; Error: { code: string }[] } };
    assert.equal(body.Fault.type, 'ValidationFault');
    assert.equal(body.Fault.Error[0]?.code, '5010');
  });

  test('reads changedSince with a raw plus sign, as node-quickbooks sends it', async () => {
    const since = '2026-02-28T00:00:00+02:00';
    const response = await api(
      sim,
      conn,
      `cdc?entities=Customer,Invoice&changedSince=${since}&minorversion=75`,
    );
    assert.equal(response.status, 200);
    const body = (await response.json()) as { CDCResponse: { QueryResponse: unknown[] }[] };
    assert.ok(Array.isArray(body.CDCResponse[0]?.QueryResponse));
  });

  test('answers batch items one by one and refuses more than 30', async () => {
    const response = await api(sim, conn, 'batch', {
      method: 'POST',
      body: JSON.stringify({
        BatchItemRequest: [
          { bId: 'b1', operation: 'create', Vendor: { DisplayName: 'Batch Vendor' } },
          { bId: 'b2', operation: 'create', Vendor: { DisplayName: 'Batch Vendor' } },
          { bId: 'b3', Query: "select * from Vendor where DisplayName = 'Batch Vendor'" },
        ],
      }),
    });
    assert.equal(response.status, 200);
    const items = ((await response.json()) as { BatchItemResponse: Record<string, unknown>[] })
      .BatchItemResponse;
    assert.deepEqual(
      items.map((i) => Object.keys(i).sort()),
      [
        ['Vendor', 'bId'],
        ['Fault', 'bId'],
        ['QueryResponse', 'bId'],
      ],
    );
    const tooMany = Array.from({ length: 31 }, (_, i) => ({ bId: `q${i}`, Query: 'select * from Item' }));
    const refused = await api(sim, conn, 'batch', {
      method: 'POST',
      body: JSON.stringify({ BatchItemRequest: tooMany }),
    });
    assert.equal(refused.status, 400);
  });

  test('answers an expired token with the gateway 401 body', async () => {
    sim.control.clock.advance(3_600_000);
    try {
      const response = await query(sim, conn, 'select * from Customer');
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="Intuit", error="invalid_token"');
      const body = (await response.json()) as { fault: { error: { code: string; detail: string }[] } };
      assert.equal(body.fault.error[0]?.code, '3200');
      assert.match(body.fault.error[0]?.detail ?? '', /^Token expired: /);
      assert.ok(!JSON.stringify(body).includes(conn.accessToken));
    } finally {
      sim.control.clock.advance(-3_600_000);
    }
  });

  test('answers 403 when a token is used on another realm', async () => {
    const response = await api(sim, { ...conn, realmId: other.realmId }, 'customer/1');
    assert.equal(response.status, 403);
  });

  test('answers 413 with an HTML body past the request size limit', async () => {
    const response = await api(sim, conn, 'customer', {
      method: 'POST',
      body: JSON.stringify({ DisplayName: 'x'.repeat(70_000) }),
    });
    assert.equal(response.status, 413);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
  });
});

describe('limits', () => {
  test('throttles the 501st request in a minute with the 3001 fault and no rate-limit headers', async () => {
    freshLimits();
    try {
      for (let i = 0; i < 500; i++) {
        if (i > 0 && i % 10 === 0) sim.control.clock.advance(1_000);
        const response = await query(sim, conn, 'select * from Item maxresults 1');
        assert.equal(response.status, 200, `request ${i + 1}`);
        await response.arrayBuffer();
      }
      sim.control.clock.advance(1_000);
      const throttled = await query(sim, conn, 'select * from Item maxresults 1');
      assert.equal(throttled.status, 429);
      const body = (await throttled.json()) as {
        Fault: { type: string; Error: { code: string; Message: string }[] };
      };
      assert.equal(body.Fault.type, 'SERVICE');
      assert.equal(body.Fault.Error[0]?.code, '3001');
      assert.equal(
        body.Fault.Error[0]?.Message,
        'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      );
      assert.equal(throttled.headers.get('retry-after'), null);
      assert.ok(![...throttled.headers.keys()].some((h) => h.startsWith('x-ratelimit')));
      assert.equal(sim.control.counters()[conn.realmId]?.query?.throttled['per-minute'], 1);
      // Another realm has its own minute.
      assert.equal((await query(sim, other, 'select * from Item maxresults 1')).status, 200);
    } finally {
      sim.control.clock.unfreeze();
    }
  });

  test('throttles the 11th request in a second', async () => {
    freshLimits();
    try {
      for (let i = 0; i < 10; i++) assert.equal((await api(sim, conn, 'customer/1')).status, 200);
      assert.equal((await api(sim, conn, 'customer/1')).status, 429);
      sim.control.clock.advance(1_000);
      assert.equal((await api(sim, conn, 'customer/1')).status, 200);
    } finally {
      sim.control.clock.unfreeze();
    }
  });

  test('throttles the 11th concurrent request', async () => {
    freshLimits();
    const fault = sim.control.addFault({
      kind: 'latency',
      latencyMs: 250,
      realmId: conn.realmId,
      endpoint: 'read',
    });
    try {
      const held: Promise<Response>[] = [];
      for (let i = 0; i < 10; i++) held.push(api(sim, conn, 'customer/1'));
      await waitFor(() => sim.control.inFlight(conn.realmId) === 10, { what: '10 requests in flight' });
      sim.control.clock.advance(2_000);
      const eleventh = await api(sim, conn, 'customer/1');
      assert.equal(eleventh.status, 429);
      assert.deepEqual(
        (await Promise.all(held)).map((r) => r.status),
        Array(10).fill(200),
      );
      assert.equal(sim.control.counters()[conn.realmId]?.read?.throttled.concurrent, 1);
    } finally {
      sim.control.removeFault(fault.id);
      sim.control.clock.unfreeze();
    }
  });
});

describe('faults and counters', () => {
  before(withoutLimits);
  test('injects a 503 on one endpoint of one realm, once', async () => {
    sim.control.addFault({ kind: '503', realmId: conn.realmId, endpoint: 'cdc', times: 1 });
    const since = encodeURIComponent('2026-02-28T00:00:00Z');
    assert.equal((await api(sim, conn, `cdc?entities=Customer&changedSince=${since}`)).status, 503);
    assert.equal((await api(sim, conn, `cdc?entities=Customer&changedSince=${since}`)).status, 200);
  });

  test('drops the connection without an answer', async () => {
    sim.control.addFault({ kind: 'drop', realmId: conn.realmId, endpoint: 'query', times: 1 });
    await assert.rejects(query(sim, conn, 'select * from Customer'));
    assert.equal(sim.control.counters()[conn.realmId]?.query?.statuses.dropped, 1);
  });

  test('cuts a request at the request timeout with a 504', async () => {
    sim.control.addFault({ kind: 'timeout', realmId: conn.realmId, endpoint: 'read', times: 1 });
    const started = Date.now();
    const response = await api(sim, conn, 'customer/1');
    assert.equal(response.status, 504);
    assert.ok(Date.now() - started >= 250);
  });

  test('answers the next refresh with invalid_grant and leaves the grant alive', async () => {
    const fresh = await connect(sim, conn.realmId);
    sim.control.addFault({ kind: 'invalid_grant', endpoint: 'token', times: 1 });
    const refresh = () =>
      fetch(`${sim.url}/oauth2/v1/tokens/bearer`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from('sim-client-id:sim-client-secret').toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: fresh.refreshToken }),
      });
    const failed = await refresh();
    assert.equal(failed.status, 400);
    assert.equal(((await failed.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await refresh()).status, 200);
  });

  test('a revoked grant answers 401 on the API', async () => {
    const victim = await connect(sim, other.realmId);
    sim.control.revokeRealm(other.realmId);
    const response = await api(sim, victim, 'customer/1');
    assert.equal(response.status, 401);
    other = await connect(sim, other.realmId);
  });

  test('counts calls per realm and endpoint', async () => {
    sim.control.resetCounters();
    await (await query(sim, conn, 'select * from Customer')).arrayBuffer();
    await (await query(sim, conn, 'select * from Vendor')).arrayBuffer();
    await (await api(sim, conn, 'customer/1')).arrayBuffer();
    const counters = sim.control.counters()[conn.realmId];
    assert.equal(counters?.query?.calls, 2);
    assert.equal(counters?.read?.calls, 1);
    assert.deepEqual(counters?.query?.statuses, { 200: 2 });
  });
});
