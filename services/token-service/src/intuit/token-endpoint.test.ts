import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTokenEndpoint } from './token-endpoint.js';

const TOKEN = 'a-refresh-token-value-that-must-not-leak';

describe('revoke at Intuit', () => {
  let server: Server;
  let base: string;
  let answer: { status: number; hang?: boolean } = { status: 200 };

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (answer.hang) return; // never answers: the client's deadline ends it
      // Intuit may echo what it was sent; the outcome must not carry it.
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', echoed: TOKEN }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const endpoint = (revokeUrl: string) =>
    createTokenEndpoint({
      tokenUrl: `${base}/token`,
      revokeUrl,
      clientId: 'client',
      clientSecret: () => 'secret',
      timeoutMs: 200,
    });

  it('says why a revoke failed (status, timeout or network) and never carries the answer', async () => {
    answer = { status: 200 };
    assert.deepEqual(await endpoint(`${base}/revoke`).revoke(TOKEN), { ok: true });
    answer = { status: 400 };
    const refused = await endpoint(`${base}/revoke`).revoke(TOKEN);
    assert.deepEqual(refused, { ok: false, cause: 'status', status: 400 });
    assert.ok(!JSON.stringify(refused).includes(TOKEN));
    answer = { status: 503 };
    assert.deepEqual(await endpoint(`${base}/revoke`).revoke(TOKEN), {
      ok: false,
      cause: 'status',
      status: 503,
    });
    answer = { status: 200, hang: true };
    assert.deepEqual(await endpoint(`${base}/revoke`).revoke(TOKEN), { ok: false, cause: 'timeout' });
    // Port 9 (discard) is closed here: the connection is refused.
    assert.deepEqual(await endpoint('http://127.0.0.1:9/revoke').revoke(TOKEN), {
      ok: false,
      cause: 'network',
    });
  });
});
