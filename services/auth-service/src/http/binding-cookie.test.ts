import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { bindingCookieJar } from './binding-cookie.js';

const app = (secure: boolean) => {
  const jar = bindingCookieJar(secure);
  return new Hono()
    .get('/set', (c) => {
      jar.set(c, 'n.m', 600);
      return c.body(null, 204);
    })
    .get('/clear', (c) => {
      jar.clear(c);
      return c.body(null, 204);
    })
    .get('/read', (c) => c.text(jar.read(c) ?? '(none)'));
};

describe('the binding cookie', () => {
  it('is __Host- prefixed, Secure, host-only and Path=/ when served over https', async () => {
    const res = await app(true).request('/set');
    assert.equal(
      res.headers.get('set-cookie'),
      '__Host-qbo_connect=n.m; Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('is the plain development cookie without Secure, and clears with Max-Age=0', async () => {
    assert.equal(
      (await app(false).request('/set')).headers.get('set-cookie'),
      'qbo_connect=n.m; Max-Age=600; Path=/; HttpOnly; SameSite=Lax',
    );
    assert.equal(
      (await app(false).request('/clear')).headers.get('set-cookie'),
      'qbo_connect=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax',
    );
  });

  it('reads only its own name from the Cookie header', async () => {
    const read = async (cookie: string) => (await app(true).request('/read', { headers: { cookie } })).text();
    assert.equal(await read('other=1; __Host-qbo_connect=a.b; qbo_connect=c.d'), 'a.b');
    assert.equal(await read('qbo_connect=c.d'), '(none)');
  });
});
