import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { serverUrl } from './database.js';
import { startFaultProxy } from './fault-proxy.js';

const server = new URL(serverUrl());
const target = { host: server.hostname, port: Number(server.port || 5432) };
const through = (port: number) => {
  const url = new URL(serverUrl());
  url.host = `127.0.0.1:${port}`;
  return url.toString();
};
const client = (port: number) => {
  const c = new pg.Client({ connectionString: through(port), connectionTimeoutMillis: 3_000 });
  c.on('error', () => undefined);
  return c;
};

describe('the fault-injecting TCP proxy (in front of the real Postgres)', () => {
  it('forwards queries, resets open connections on cut(), refuses new ones until restore(), then forwards again', async () => {
    const proxy = await startFaultProxy({ target });
    try {
      const before = client(proxy.port);
      await before.connect();
      assert.equal((await before.query('select 1 as one')).rows[0]?.one, 1);

      proxy.cut();
      await assert.rejects(before.query('select 1'), 'the open connection was reset');
      const refused = client(proxy.port);
      await assert.rejects(refused.connect(), 'a new connection is refused');
      assert.deepEqual(
        { dropped: proxy.stats().dropped, refused: proxy.stats().refused },
        { dropped: 1, refused: 1 },
      );

      proxy.restore();
      const after = client(proxy.port);
      await after.connect();
      assert.equal((await after.query('select 2 as two')).rows[0]?.two, 2);
      await after.end();
      assert.equal(proxy.stats().forwarded, 2);
    } finally {
      await proxy.close();
    }
  });

  it('holds each new connection for the delay before forwarding it', async () => {
    const proxy = await startFaultProxy({ target });
    try {
      proxy.delay(600);
      const started = Date.now();
      const c = client(proxy.port);
      await c.connect();
      await c.query('select 1');
      assert.ok(Date.now() - started >= 600, `connected after ${Date.now() - started} ms`);
      await c.end();
    } finally {
      await proxy.close();
    }
  });
});
