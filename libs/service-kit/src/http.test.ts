import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { AppError } from './errors.js';
import { createHttpApp } from './http.js';
import { createLogger } from './logger.js';
import { createReadiness } from './readiness.js';

const log = createLogger({ service: 'test', destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('http app', () => {
  it('answers /healthz always and /readyz 503 while a dependency fails', async () => {
    let dbUp = false;
    const readiness = createReadiness({
      checks: {
        database: async () => {
          if (!dbUp) throw new Error('down');
        },
      },
      timeoutMs: 100,
      cacheMs: 0,
    });
    const app = createHttpApp({ log, readiness });
    assert.equal((await app.request('/healthz')).status, 200);
    assert.equal((await app.request('/readyz')).status, 503);
    dbUp = true;
    assert.equal((await app.request('/readyz')).status, 200);
    readiness.markStopping();
    assert.equal((await app.request('/readyz')).status, 503);
  });

  it('maps errors to problem+json without leaking unexpected messages', async () => {
    const app = createHttpApp({ log, readiness: createReadiness({ checks: {}, timeoutMs: 100 }) });
    app.get('/conflict', () => {
      throw new AppError('stale_object', 'The record changed since it was read', { status: 409 });
    });
    app.get('/crash', () => {
      throw new Error('upstream said access_token=abc123');
    });
    app.get('/upstream', () => {
      throw Object.assign(new Error('Intuit said 429'), { code: '3001', status: 429 });
    });
    app.get('/internal', () => {
      throw new AppError('tampered', 'sealed value for connection abc123 failed to open');
    });
    const conflict = await app.request('/conflict');
    assert.equal(conflict.status, 409);
    assert.equal(conflict.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual(await conflict.json(), {
      type: 'about:blank',
      title: 'The record changed since it was read',
      status: 409,
      code: 'stale_object',
    });
    const crash = await app.request('/crash');
    assert.equal(crash.status, 500);
    const body = await crash.text();
    assert.doesNotMatch(body, /abc123|upstream|stack/);
    const upstream = await app.request('/upstream');
    assert.equal(upstream.status, 500, "another party's status is not passed on");
    assert.equal(((await upstream.json()) as { code: string }).code, 'internal_error');
    const internal = await app.request('/internal');
    assert.equal(internal.status, 500);
    assert.deepEqual(await internal.json(), {
      type: 'about:blank',
      title: 'Internal error',
      status: 500,
      code: 'internal_error',
    });
  });

  it('writes the Retry-After and WWW-Authenticate an error asks for, and keeps headers set before the throw', async () => {
    const app = createHttpApp({ log, readiness: createReadiness({ checks: {}, timeoutMs: 100 }) });
    app.get('/busy', (c) => {
      c.header('cache-control', 'no-store');
      throw new AppError('refresh_unavailable', 'Try again later', { status: 503, retryAfterSeconds: 7 });
    });
    app.get('/who', () => {
      throw new AppError('unauthenticated', 'A credential is required', {
        status: 401,
        authenticate: 'Bearer',
      });
    });
    const busy = await app.request('/busy');
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get('retry-after'), '7');
    assert.equal(busy.headers.get('cache-control'), 'no-store');
    assert.equal(busy.headers.get('content-type'), 'application/problem+json');
    const who = await app.request('/who');
    assert.equal(who.status, 401);
    assert.equal(who.headers.get('www-authenticate'), 'Bearer');
    assert.equal(who.headers.get('retry-after'), null);
    assert.equal(((await who.json()) as { code: string }).code, 'unauthenticated');
  });
});
