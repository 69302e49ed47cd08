import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RawBody, readRawBody } from './raw-body.js';

const MAX = 1_000;
const TIMEOUT_MS = 300;
let port = 0;
let last: RawBody | undefined;
const server = createServer(async (req, res) => {
  last = await readRawBody(req, MAX, TIMEOUT_MS);
  const status = last.ok ? 200 : last.reason === 'too_slow' ? 408 : 413;
  res.writeHead(status, last.ok ? {} : { connection: 'close' });
  res.end(last.ok ? String(last.bytes.length) : last.reason);
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `chunks` with a declared length or chunked (and, if `stall`, never ends); resolves with the status. */
function send(chunks: string[], declareLength: boolean, stall = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = request(
      {
        port,
        method: 'POST',
        headers: declareLength ? { 'content-length': total } : { 'transfer-encoding': 'chunked' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
    );
    for (const chunk of chunks) req.write(chunk);
    if (!stall) req.end();
  });
}

describe('readRawBody', () => {
  it('returns the exact bytes of a body within the limit, declared or chunked', async () => {
    assert.equal(await send(['{"a":', '"é"}'], true), 200);
    assert.equal(last?.ok && Buffer.from(last.bytes).toString('utf8'), '{"a":"é"}');
    assert.equal(await send(['x'.repeat(600), 'y'.repeat(400)], false), 200);
    assert.equal(last?.ok && last.bytes.length, MAX);
  });

  it('refuses a declared length over the limit without reading the body', async () => {
    assert.equal(await send(['x'.repeat(MAX + 1)], true), 413);
    assert.deepEqual(last, { ok: false, reason: 'too_large' });
  });

  it('refuses a chunked body as soon as it passes the limit', async () => {
    assert.equal(await send(['x'.repeat(800), 'x'.repeat(800), 'x'.repeat(800)], false), 413);
    assert.deepEqual(last, { ok: false, reason: 'too_large' });
  });

  it('gives up on a body that does not arrive in time', async () => {
    const started = Date.now();
    assert.equal(await send(['{"a":'], false, true), 408);
    assert.deepEqual(last, { ok: false, reason: 'too_slow' });
    assert.ok(Date.now() - started < TIMEOUT_MS + 1_000);
  });
});
