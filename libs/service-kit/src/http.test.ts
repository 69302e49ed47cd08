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
  });
});
