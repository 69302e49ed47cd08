import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { uniqueName } from '@qbo/testkit';
import { connectSuite, read } from './testing/connect-suite.js';
import { APP_ORIGIN, Browser, orgToken } from './testing/harness.js';

describe('attacks on the connect flow: two replicas as processes, simulator as Intuit, Kafka, Postgres, Redis', () => {
  const t = connectSuite('auth-attacks', { replicas: 2 });

  describe('attacks, each refused before any code exchange', () => {
    let exchangesBefore = 0;
    before(() => {
      exchangesBefore = t.tokenEndpointCalls();
    });
    const rejections = async (reason: string) =>
      (await t.outboxEvents('ConnectAttemptRejected')).filter((e) => e.data.reason === reason);

    it('forged and missing state', async () => {
      const br = t.browser();
      const own = await t.startFlow(br, 'org-forge', { realmId: t.freshRealm() });
      const forged = await br.callback(
        `${t.a.url}/oauth/callback?code=stolen-code-value&state=${'A'.repeat(43)}&realmId=${t.realms[1]}`,
      );
      assert.equal(forged.status, 400);
      assert.match(forged.headers.get('content-type') ?? '', /text\/html/);
      const page = await forged.text();
      assert.match(page, /not recognised/);
      assert.doesNotMatch(page, /stolen-code-value|AAAA|at .*\.js/);
      const missing = await br.callback(
        `${t.a.url}/oauth/callback?code=x&realmId=${t.realms[1]}`,
        'application/json',
      );
      assert.equal(missing.status, 400);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
      assert.equal((await read(missing)).code, 'state_missing');
      assert.equal(t.tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('state_unknown')).length, 1);
      assert.equal((await rejections('state_missing')).length, 1);

      assert.equal(br.cookies.size, 1, 'the forged callbacks left this browser’s binding alone');
      const ownCallback = await br.callback(own.callbackUrl);
      assert.equal(ownCallback.status, 303, 'its own attempt still completes');
      assert.equal(br.cookies.size, 0, 'and the spent binding is cleared');
      exchangesBefore = t.tokenEndpointCalls();
    });

    it('replayed state: the second use of a spent callback is refused', async () => {
      const br = t.browser();
      const { callbackUrl } = await t.startFlow(br, 'org-replay', { realmId: t.realms[1] ?? '' });
      const cookie = new Map(br.cookies);
      const first = await br.callback(callbackUrl);
      assert.equal(first.status, 303);
      const afterFirst = t.tokenEndpointCalls();
      // The attacker replays with the victim's cookie too: the state itself is spent.
      for (const [k, v] of cookie) br.cookies.set(k, v);
      const replay = await br.callback(callbackUrl, 'application/json');
      assert.equal(replay.status, 400);
      assert.equal((await read(replay)).code, 'state_reused');
      assert.equal(t.tokenEndpointCalls(), afterFirst, 'no second exchange');
      exchangesBefore = afterFirst;
      assert.equal((await rejections('state_reused')).length, 1);
    });

    it('expired state', async () => {
      const br = t.browser();
      const { state, callbackUrl } = await t.startFlow(br, 'org-expired');
      const hash = createHash('sha256').update(state).digest('hex');
      await t.db.query(
        `update auth.oauth_state set expires_at = now() - interval '1 second' where state_hash = $1`,
        [hash],
      );
      const res = await br.callback(callbackUrl, 'application/json');
      assert.equal(res.status, 400);
      assert.equal((await read(res)).code, 'state_expired');
      assert.equal(t.tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('state_expired')).length, 1);
    });

    it('state from another browser (cookie mismatch), also with a cookie of its own flow', async () => {
      const victim = t.browser();
      const { callbackUrl } = await t.startFlow(victim, 'org-victim', { realmId: t.freshRealm() });
      const attacker = t.browser();
      const none = await attacker.callback(callbackUrl, 'application/json');
      assert.equal(none.status, 403);
      assert.equal((await read(none)).code, 'cookie_mismatch');
      await t.startFlow(attacker, 'org-attacker');
      const own = await attacker.callback(callbackUrl, 'application/json');
      assert.equal(own.status, 403);
      assert.equal((await read(own)).code, 'cookie_mismatch');
      assert.equal(t.tokenEndpointCalls(), exchangesBefore);
      assert.equal((await rejections('cookie_mismatch')).length, 2);
      // The victim's own browser can still finish: a mismatch does not spend the state.
      const ok = await victim.callback(callbackUrl);
      assert.equal(ok.status, 303);
      exchangesBefore = t.tokenEndpointCalls();
    });

    it('open redirect: returnTo outside the allowlist is refused at initiation, no state created', async () => {
      const br = t.browser();
      const statesBefore = (await t.db.query('select count(*)::int as n from auth.oauth_state'))[0]?.n;
      for (const returnTo of [
        'https://evil.example/steal',
        'https://app.example.com.evil.example/',
        'https://app.example.com@evil.example/',
        '//evil.example/',
        'javascript:alert(1)',
      ]) {
        // One org per attempt: the per-org limit (three a window) is not what this test is about.
        const { res } = await br.initiate(t.a.url, await t.bearer(uniqueName('org-redirect')), returnTo);
        assert.equal(res.status, 400, returnTo);
        const body = await read(res);
        assert.equal(body.code, 'return_to_not_allowed');
        assert.equal(body.authorizeUrl, undefined);
      }
      assert.equal((await t.db.query('select count(*)::int as n from auth.oauth_state'))[0]?.n, statesBefore);
      assert.equal(br.cookies.size, 0, 'no binding cookie handed out');
      const audits = await rejections('return_to_not_allowed');
      assert.equal(audits.length, 5);
      assert.ok(audits.some((e) => e.data.returnToOrigin === 'https://evil.example'));
      assert.equal(t.tokenEndpointCalls(), exchangesBefore);
    });

    it("Intuit's error=access_denied: no exchange, back to the app with an error flag; forged errors get a page", async () => {
      const br = t.browser();
      t.sim.control.nextConsent({ decision: 'deny' });
      const { callbackUrl } = await t.startFlow(br, 'org-denied');
      assert.equal(callbackUrl.searchParams.get('error'), 'access_denied');
      const res = await br.callback(callbackUrl);
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location') ?? '');
      assert.equal(location.origin, APP_ORIGIN);
      assert.equal(location.searchParams.get('status'), 'error');
      assert.equal(location.searchParams.get('error'), 'access_denied');
      const again = await br.callback(callbackUrl, 'application/json');
      assert.equal(again.status, 400, 'the state was spent by the refusal');
      const forged = await t.browser().callback(`${t.a.url}/oauth/callback?error=access_denied`);
      assert.equal(forged.status, 400);
      assert.equal(t.tokenEndpointCalls(), exchangesBefore);
      const audits = await rejections('provider_error');
      assert.ok(audits.filter((e) => e.data.providerError === 'access_denied').length >= 2);
    });

    it('refusal pages carry security headers and no stack trace', async () => {
      const res = await t.browser().callback(`${t.a.url}/oauth/callback?state=nope&code=nope&realmId=1`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=/);
      assert.doesNotMatch(await res.text(), /Error:|\bat \S+ \(/);
    });
  });

  it("a callback whose realmId was edited is refused: Intuit's ID token names another company", async () => {
    const granted = t.freshRealm();
    const claimed = t.freshRealm();
    const br = t.browser();
    const { callbackUrl } = await t.startFlow(br, 'org-tamper', { realmId: granted });
    callbackUrl.searchParams.set('realmId', claimed);
    const revokes = t.sim.control.counters()['-']?.revoke?.calls ?? 0;
    const res = await br.callback(callbackUrl, 'application/json');
    assert.equal(res.status, 400);
    assert.equal((await read(res)).code, 'provider_error');
    assert.equal(
      (await t.db.query('select 1 from auth.connection where org_id = $1', ['org-tamper'])).length,
      0,
    );
    assert.ok(!t.tokenService.stores.some((s) => s.body.orgId === 'org-tamper'), 'no tokens handed on');
    assert.equal(t.sim.control.counters()['-']?.revoke?.calls, revokes + 1, 'the stray grant was revoked');
    const audit = (await t.outboxEvents('ConnectAttemptRejected')).filter((e) => e.orgId === 'org-tamper');
    assert.equal(audit[0]?.data.providerError, 'realm_mismatch');
  });

  it('request bodies over 4 KiB are refused with 413 payload_too_large before they are read', async () => {
    const br = t.browser();
    const res = await br.fetch(`${t.a.url}/connect/quickbooks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await t.bearer(uniqueName('org-big'))}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ returnTo: `${APP_ORIGIN}/`, pad: 'x'.repeat(5000) }),
    });
    assert.equal(res.status, 413);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await read(res)).code, 'payload_too_large');
    assert.equal(br.cookies.size, 0, 'no state started');
    const chunked = await br.fetch(`${t.a.url}/connect/quickbooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await t.bearer(uniqueName('org-big'))}` },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"returnTo":"${'y'.repeat(5000)}"}`));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit & { headers: Record<string, string> });
    assert.equal(chunked.status, 413, 'without a Content-Length too');
  });

  it('rate limits are shared by both replicas through Redis: 429 with Retry-After, audited', async () => {
    const br = new Browser('203.0.113.77');
    const token = await t.bearer('org-limited');
    const statuses: number[] = [];
    let last: Response | undefined;
    for (const service of [t.a, t.b, t.a, t.b]) {
      last = (await br.initiate(service.url, token, `${APP_ORIGIN}/`)).res;
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429], 'three per org per window, across replicas');
    assert.ok(Number(last?.headers.get('retry-after')) > 0);
    assert.equal((await read(last)).code, 'rate_limited');

    const cb = new Browser('203.0.113.78');
    const callbackStatuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      const service = i % 2 === 0 ? t.a : t.b;
      callbackStatuses.push(
        (await cb.callback(`${service.url}/oauth/callback?state=x${i}`, 'application/json')).status,
      );
    }
    assert.deepEqual(callbackStatuses, [400, 400, 400, 400, 400, 400, 400, 400, 429]);
    const limited = (await t.outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.data.reason === 'rate_limited',
    );
    assert.equal(limited.length, 2);
  });

  it('initiation needs an org credential (401, audited); GET answers a 302 to Intuit with PKCE S256', async () => {
    const br = t.browser();
    for (const body of ['{not json', '{"returnTo": 42}', '[]']) {
      const bad = await br.fetch(`${t.a.url}/connect/quickbooks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await t.bearer(uniqueName('org-body'))}`,
          'content-type': 'application/json',
        },
        body,
      });
      assert.equal(bad.status, 400, body);
      assert.equal((await read(bad)).code, 'invalid_request');
    }
    const none = await br.fetch(`${t.a.url}/connect/quickbooks`, { method: 'POST' });
    assert.equal(none.status, 401);
    assert.equal((await read(none)).code, 'unauthenticated');
    const expired = await orgToken('org-get', { expiresIn: '-1m' });
    assert.equal((await br.initiate(t.a.url, expired)).res.status, 401);
    assert.equal(br.cookies.size, 0);
    const audits = (await t.outboxEvents('ConnectAttemptRejected')).filter(
      (e) => e.data.reason === 'unauthenticated',
    );
    assert.equal(audits.length, 2);
    assert.equal(audits[0]?.orgId, '_unknown');

    const res = await br.fetch(
      `${t.a.url}/connect/quickbooks?returnTo=${encodeURIComponent(`${APP_ORIGIN}/x`)}`,
      {
        headers: { authorization: `Bearer ${await t.bearer('org-get')}` },
      },
    );
    assert.equal(res.status, 302);
    const authorize = new URL(res.headers.get('location') ?? '');
    t.handled.states.add(authorize.searchParams.get('state') ?? '');
    assert.equal(authorize.origin + authorize.pathname, `${t.sim.url}/connect/oauth2`);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(authorize.searchParams.get('scope'), 'com.intuit.quickbooks.accounting openid');
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^qbo_connect=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/,
    );
  });

  it('CORS answers only allowlisted origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.a.url}/connect/quickbooks`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    const foreign = await preflight('https://evil.example');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  t.itLeaksNothing({ material: { tokens: 6, codes: 6, states: 8 }, errors: [] });
});
