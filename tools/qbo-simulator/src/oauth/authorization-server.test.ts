import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { AuthorizationServer, DEFAULT_TOKEN_POLICY, type TokenResult } from './authorization-server.js';

const APP = { clientId: 'cid', clientSecret: 'secret', redirectUris: ['http://localhost/cb'] };
const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const form = (fields: Record<string, string>) => new URLSearchParams(fields);

function connect(server: AuthorizationServer, extra: { challenge?: string; method?: string } = {}) {
  const { code } = server.issueCode(
    {
      clientId: 'cid',
      redirectUri: 'http://localhost/cb',
      scope: 'com.intuit.quickbooks.accounting openid',
      realmId: '9130000000000001',
      ...extra,
    },
    T0,
  );
  return code;
}

const body = (result: TokenResult) => {
  assert.ok(result.ok, JSON.stringify(result.body));
  return result.body;
};

const exchange = (server: AuthorizationServer, code: string, now = T0, extra: Record<string, string> = {}) =>
  server.token(
    APP,
    form({ grant_type: 'authorization_code', code, redirect_uri: 'http://localhost/cb', ...extra }),
    false,
    now,
  );

const refresh = (server: AuthorizationServer, token: string, now: number, hard = false) =>
  server.token(APP, form({ grant_type: 'refresh_token', refresh_token: token }), hard, now);

describe('authorization server', () => {
  test('exchanges a code for Intuit-shaped tokens', () => {
    const server = new AuthorizationServer([APP]);
    const tokens = body(exchange(server, connect(server)));
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.x_refresh_token_expires_in, 8_726_400);
    assert.equal(typeof tokens.id_token, 'string');
    assert.equal(tokens.x_refresh_token_hard_expires_in, undefined);
  });

  test('rejects a reused code with invalid_grant', () => {
    const server = new AuthorizationServer([APP]);
    const code = connect(server);
    body(exchange(server, code));
    assert.deepEqual(exchange(server, code), {
      ok: false,
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token invalid' },
    });
  });

  test('rejects an expired code', () => {
    const server = new AuthorizationServer([APP]);
    const result = exchange(server, connect(server), T0 + DEFAULT_TOKEN_POLICY.codeSeconds * 1000);
    assert.equal(result.ok, false);
  });

  test('checks the PKCE verifier when a challenge was sent', () => {
    const server = new AuthorizationServer([APP]);
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    assert.equal(
      exchange(server, connect(server, { challenge, method: 'S256' }), T0, { code_verifier: 'wrong' }).ok,
      false,
    );
    assert.equal(
      exchange(server, connect(server, { challenge, method: 'S256' }), T0, { code_verifier: verifier }).ok,
      true,
    );
  });

  test('returns the same refresh token within 24 hours with a shrinking lifetime', () => {
    const server = new AuthorizationServer([APP]);
    const first = body(exchange(server, connect(server)));
    const again = body(refresh(server, String(first.refresh_token), T0 + HOUR));
    assert.equal(again.refresh_token, first.refresh_token);
    assert.equal(again.x_refresh_token_expires_in, 8_726_400 - 3600);
    assert.notEqual(again.access_token, first.access_token);
  });

  test('rotates the refresh token after 24 hours and rejects the old one', () => {
    const server = new AuthorizationServer([APP]);
    const first = body(exchange(server, connect(server)));
    const rotated = body(refresh(server, String(first.refresh_token), T0 + 25 * HOUR));
    assert.notEqual(rotated.refresh_token, first.refresh_token);
    assert.equal(rotated.x_refresh_token_expires_in, 8_726_400);
    assert.deepEqual(refresh(server, String(first.refresh_token), T0 + 26 * HOUR), {
      ok: false,
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Incorrect or invalid refresh token' },
    });
  });

  test('honours a configured grace period for a replaced refresh token', () => {
    const server = new AuthorizationServer([APP], { ...DEFAULT_TOKEN_POLICY, rotatedGraceSeconds: 86_400 });
    const first = body(exchange(server, connect(server)));
    body(refresh(server, String(first.refresh_token), T0 + 25 * HOUR));
    assert.equal(refresh(server, String(first.refresh_token), T0 + 26 * HOUR).ok, true);
  });

  test('adds the hard expiry only when asked', () => {
    const server = new AuthorizationServer([APP]);
    const first = body(exchange(server, connect(server)));
    const refreshed = body(refresh(server, String(first.refresh_token), T0 + HOUR, true));
    assert.equal(refreshed.x_refresh_token_hard_expires_in, 157_680_000 - 3600);
  });

  test('ends the grant when either token is revoked', () => {
    const server = new AuthorizationServer([APP]);
    const tokens = body(exchange(server, connect(server)));
    assert.ok(server.revoke(APP, String(tokens.access_token)));
    assert.equal(refresh(server, String(tokens.refresh_token), T0 + 1).ok, false);
    assert.deepEqual(server.authenticate(`Bearer ${String(tokens.access_token)}`, T0 + 1).ok, false);
  });

  test('expires access tokens after one hour', () => {
    const server = new AuthorizationServer([APP]);
    const tokens = body(exchange(server, connect(server)));
    const header = `Bearer ${String(tokens.access_token)}`;
    assert.equal(server.authenticate(header, T0 + HOUR - 1).ok, true);
    const expired = server.authenticate(header, T0 + HOUR);
    assert.equal(expired.ok ? 'ok' : expired.reason, 'expired');
  });

  test('authenticates clients by Basic header or form fields, never a wrong secret', () => {
    const server = new AuthorizationServer([APP]);
    const basic = `Basic ${Buffer.from('cid:secret').toString('base64')}`;
    assert.equal(server.authenticateClient(basic, form({}))?.clientId, 'cid');
    assert.equal(
      server.authenticateClient(undefined, form({ client_id: 'cid', client_secret: 'secret' }))?.clientId,
      'cid',
    );
    assert.equal(
      server.authenticateClient(`Basic ${Buffer.from('cid:nope').toString('base64')}`, form({})),
      undefined,
    );
  });
});
