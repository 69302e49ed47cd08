import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONTENT_SECURITY_POLICY, consoleApp } from './app.js';

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'console-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dir, 'app.js'), 'export {};');
  const seen: Seen[] = [];
  const app = consoleApp({
    syncUrl: 'http://sync.test',
    authUrl: 'http://auth.test',
    jaegerUrl: 'http://jaeger.test',
    staticDirs: [dir],
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      const body = init?.body ? Buffer.from(init.body as ArrayBuffer).toString() : '';
      seen.push({ url: String(input), method: init?.method ?? 'GET', headers, body });
      return new Response(JSON.stringify({ ok: true }), {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'set-cookie': 'qbo_oauth_binding=v; Path=/; HttpOnly',
          'x-internal': 'no',
        },
      });
    }) as typeof fetch,
  });
  return { app, seen };
}

describe('the console server', () => {
  it('answers every response, page, asset, API or 404, with the strict CSP and no framing', async () => {
    const { app } = await setup();
    for (const path of [
      '/',
      '/assets/app.js',
      '/assets/missing.js',
      '/config.json',
      '/api/sync/connections',
      '/api/nope',
      '/nowhere',
    ]) {
      const res = await app.request(path, { headers: { authorization: 'Bearer t' } });
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
  });

  it('forwards the caller’s bearer token, method, query and body to the service that authorises, and nothing else', async () => {
    const { app, seen } = await setup();
    const res = await app.request('/api/sync/connections/4b6f1c2e-8a1e-4c53-9d1e-0f6f2b7c9a10/sync?x=1', {
      method: 'POST',
      headers: {
        authorization: 'Bearer abc',
        'content-type': 'application/json',
        cookie: 'a=b',
        'x-forwarded-for': '1.2.3.4',
      },
      body: '{"mode":"incremental"}',
    });
    assert.equal(res.status, 200);
    assert.equal(seen[0]?.url, 'http://sync.test/connections/4b6f1c2e-8a1e-4c53-9d1e-0f6f2b7c9a10/sync?x=1');
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.body, '{"mode":"incremental"}');
    assert.equal(seen[0]?.headers.get('authorization'), 'Bearer abc');
    assert.equal(seen[0]?.headers.get('cookie'), null, 'the browser’s cookies stay here');
    assert.equal(seen[0]?.headers.get('x-forwarded-for'), null);
    assert.equal(
      res.headers.get('x-internal'),
      null,
      'only the content type and the binding cookie come back',
    );
    assert.match(res.headers.get('set-cookie') ?? '', /qbo_oauth_binding/);
    assert.equal(res.headers.get('cache-control'), 'no-store');

    await app.request('/api/auth/connect/quickbooks', {
      method: 'POST',
      headers: { authorization: 'Bearer abc' },
    });
    assert.equal(seen[1]?.url, 'http://auth.test/connect/quickbooks');
  });

  it('forwards only the APIs the console uses: no health, metrics, callback or path tricks', async () => {
    const { app, seen } = await setup();
    for (const path of [
      '/api/sync/metrics',
      '/api/sync/readyz',
      '/api/auth/oauth/callback',
      '/api/auth/connections/../../admin',
      '/api/sync/connections/%2e%2e/metrics',
      // Encoded separators survive URL parsing and reach the path check itself.
      '/api/sync/connections/x%2F..%2Fmetrics',
      '/api/sync/connections/x%2f..%2f..%2freadyz',
      '/api/sync/connections/x%5c..%5cmetrics',
      // Routes the page never calls, though sync-service would check the caller itself.
      '/api/sync/connections/abc/erasure',
      '/api/sync/orgs/o/erasure',
      '/api/sync/runs/abc/other',
      '/api/token/tokens',
    ]) {
      const res = await app.request(path, { headers: { authorization: 'Bearer abc' } });
      assert.equal(res.status, 404, path);
    }
    assert.equal(seen.length, 0, 'nothing was forwarded');
  });

  it('serves assets from its folders only, and no source maps', async () => {
    const { app } = await setup();
    assert.equal(
      (await app.request('/assets/app.js')).headers.get('content-type'),
      'text/javascript; charset=utf-8',
    );
    for (const path of [
      '/assets/../index.html',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/%252e%252e/package.json',
      '/assets/app.js.map',
    ])
      assert.equal((await app.request(path)).status, 404, path);
    assert.deepEqual(await (await app.request('/config.json')).json(), { jaegerUrl: 'http://jaeger.test' });
  });
});
