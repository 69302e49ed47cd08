import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { attack } from '@qbo/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectThroughConsent, launchBrowser, type StackUnderTest, startStack } from './testing/stack.js';

const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/;

describe('the operator console under attack', () => {
  let stack: StackUnderTest;
  let browser: Browser;
  const orgA = `org-a-${Date.now().toString(36)}`;
  const orgB = `org-b-${Date.now().toString(36)}`;
  let tokenA: string;
  let connectionId: string;
  let runId: string;
  let pageA: Page;
  let contextA: BrowserContext;
  /** Every response the browser got from the console, with its CSP and (for API answers) its body. */
  const responses: { url: string; csp: string | null; body: string }[] = [];

  before(
    async () => {
      stack = await startStack();
      browser = await launchBrowser();
      tokenA = await stack.token(orgA);
      contextA = await browser.newContext();
      pageA = await contextA.newPage();
      pageA.on('response', (r) => {
        if (!r.url().startsWith(stack.consoleUrl)) return;
        void r
          .text()
          .catch(() => '')
          .then((body) =>
            responses.push({ url: r.url(), csp: r.headers()['content-security-policy'] ?? null, body }),
          );
      });
      // Org A signs in with its link, connects a company and opens its pages.
      await pageA.goto(`${stack.consoleUrl}/#token=${tokenA}`);
      await pageA.waitForSelector('[data-test=connect]');
      const realmId = await connectThroughConsent(pageA);
      const row = pageA.locator(`[data-test=connection][data-realm-id="${realmId}"]`);
      connectionId = String(await row.getAttribute('data-connection-id'));
      await row.locator('a').click();
      const run = pageA.locator('[data-test=run]').first();
      await run.waitFor({ timeout: 60_000 });
      runId = String(await run.getAttribute('data-run-id'));
      await run.locator('a', { hasText: 'API calls' }).click();
      await pageA.waitForSelector('[data-test=calls], [data-test=calls-empty]');
    },
    { timeout: 240_000 },
  );
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  attack(
    'the console never renders a token: not in the page, the address bar, a cookie or local storage',
    async () => {
      for (const hash of ['#/connections', `#/connections/${connectionId}`, `#/runs/${runId}`]) {
        await pageA.goto(`${stack.consoleUrl}/${hash}`);
        await pageA.waitForSelector('main section');
        const html = await pageA.content();
        assert.ok(!html.includes(tokenA), `${hash}: the token is not in the page`);
        assert.doesNotMatch(html, JWT, `${hash}: no token-shaped text in the page`);
        assert.doesNotMatch(html, /access_token|refresh_token/i);
        assert.ok(!pageA.url().includes(tokenA), 'not in the address bar');
        const stored = await pageA.evaluate(
          '({ cookie: document.cookie, local: JSON.stringify(localStorage) })',
        );
        assert.deepEqual(
          stored,
          { cookie: '', local: '{}' },
          'no cookie the page can read, nothing in local storage',
        );
      }
      // Nothing the console answered carries a token of any kind either.
      for (const r of responses.filter((x) => x.url.includes('/api/'))) {
        assert.doesNotMatch(r.body, JWT, r.url);
        assert.doesNotMatch(r.body, /access_token|refresh_token/i, r.url);
      }
    },
  );

  attack(
    'every page, asset and API answer carries the strict CSP, and an inline script is refused',
    async () => {
      assert.ok(responses.length > 5);
      for (const r of responses) {
        assert.ok(r.csp, `${r.url} has a CSP`);
        assert.match(r.csp, /default-src 'self'/);
        assert.match(r.csp, /frame-ancestors 'none'/);
        assert.doesNotMatch(r.csp, /unsafe-inline|unsafe-eval/);
      }
      for (const path of [
        '/',
        '/assets/app.js',
        '/assets/styles.css',
        '/config.json',
        '/api/sync/connections',
        '/nowhere',
      ]) {
        const res = await fetch(`${stack.consoleUrl}${path}`);
        assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      }
      // Evaluated in the page: an inline script added to the document, which the CSP must not run.
      const ran = await pageA.evaluate(`(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.injected = true';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 100));
      return window.injected === true;
    })()`);
      assert.equal(ran, false, 'the CSP blocked an inline script');
    },
  );

  attack(
    'a foreign org’s ids give 404 through the console, in the browser and at its API, and change nothing',
    async () => {
      const tokenB = await stack.token(orgB);
      const contextB = await browser.newContext();
      const pageB = await contextB.newPage();
      await pageB.goto(`${stack.consoleUrl}/#token=${tokenB}`);
      await pageB.waitForSelector('[data-test=connections-empty]');
      for (const hash of [`#/connections/${connectionId}`, `#/runs/${runId}`]) {
        await pageB.goto(`${stack.consoleUrl}/${hash}`);
        await pageB.waitForSelector('[data-test=not-found]');
        assert.equal(await pageB.locator('[data-test=not-found] h1').textContent(), 'Not found.');
      }
      await contextB.close();

      const asB = (method: string, path: string, body?: unknown) =>
        fetch(`${stack.consoleUrl}/api/${path}`, {
          method,
          headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      for (const [method, path, body] of [
        ['GET', `sync/connections/${connectionId}`],
        ['GET', `auth/connections/${connectionId}`],
        ['GET', `sync/runs/${runId}`],
        ['GET', `sync/runs/${runId}/api-calls`],
        ['POST', `sync/connections/${connectionId}/pause`, {}],
        ['POST', `sync/connections/${connectionId}/sync`, { mode: 'full' }],
        ['POST', `sync/runs/${runId}/retry-errors`],
        ['DELETE', `auth/connections/${connectionId}`],
      ] as const) {
        const res = await asB(method, path, body);
        assert.equal(res.status, 404, `${method} ${path}`);
      }
      const listed = (await (await asB('GET', 'sync/connections')).json()) as { connections: unknown[] };
      assert.deepEqual(listed.connections, [], 'org B lists nothing of org A');
      const anonymous = await fetch(`${stack.consoleUrl}/api/sync/connections`);
      assert.equal(anonymous.status, 401, 'no token, no answer');

      const [grant] = await stack.query<{ status: string }>(
        'select status from auth.connection where id = $1',
        [connectionId],
      );
      const [target] = await stack.query<{ paused_at: Date | null }>(
        'select paused_at from sync.sync_target where connection_id = $1',
        [connectionId],
      );
      assert.deepEqual(
        [grant?.status, target?.paused_at],
        ['active', null],
        'org A’s connection is untouched',
      );
    },
  );

  attack('a sign-in link from elsewhere does not replace the session of a signed-in operator', async () => {
    // Any site can link to the console with its own org's token; followed by a signed-in user, it must not
    // swap their session (they would then connect their company to the link's org).
    await pageA.goto(`${stack.consoleUrl}/#token=${await stack.token(orgB)}`);
    await pageA.waitForSelector('[data-test=connect]');
    const held = await pageA.evaluate(() => Object.values(sessionStorage));
    assert.deepEqual(held, [tokenA], 'still signed in as org A');
    assert.ok(!pageA.url().includes('token='), 'the link’s token left the address bar');
    await pageA.goto(`${stack.consoleUrl}/#token=%E0%A4%A`);
    assert.deepEqual(await pageA.evaluate(() => Object.values(sessionStorage)), [tokenA], 'a malformed link');
  });
});
