import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyTokenAnswer } from './token-response.js';

describe('classifying token endpoint answers', () => {
  it('reads a successful refresh, with the hard expiry when present', () => {
    const answer = classifyTokenAnswer(200, {
      access_token: 'at',
      refresh_token: 'rt',
      expires_in: 3600,
      x_refresh_token_expires_in: 8_726_400,
      x_refresh_token_hard_expires_in: 1000,
    });
    assert.deepEqual(answer, {
      ok: true,
      accessToken: 'at',
      refreshToken: 'rt',
      expiresInSeconds: 3600,
      refreshExpiresInSeconds: 8_726_400,
      hardExpiresInSeconds: 1000,
    });
  });

  it('tells a dead grant, a rejected app and a failure of this refresh apart', () => {
    const kind = (status: number, body: unknown) => {
      const a = classifyTokenAnswer(status, body);
      return a.ok ? 'ok' : `${a.outcome.kind}:${a.outcome.code ?? ''}`;
    };
    assert.equal(kind(400, { error: 'invalid_grant' }), 'grant_rejected:invalid_grant');
    assert.equal(kind(401, { error: 'invalid_client' }), 'app_rejected:invalid_client');
    // Only invalid_client names the app's credentials: a bare 401 or a request error fails this refresh only.
    assert.equal(kind(401, undefined), 'transient:401');
    assert.equal(kind(401, '<html>'), 'transient:401');
    assert.equal(kind(400, { error: 'unauthorized_client' }), 'transient:unauthorized_client');
    assert.equal(kind(400, { error: 'invalid_request' }), 'transient:invalid_request');
    assert.equal(kind(503, undefined), 'transient:503');
    assert.equal(kind(502, undefined), 'transient:502');
    assert.equal(kind(429, { error: 'rate_limit_exceeded' }), 'transient:429');
    assert.equal(kind(500, { error: 'server_error' }), 'transient:500');
    // A 200 that is not a token answer is Intuit misbehaving, not the grant dying.
    assert.equal(kind(200, { access_token: 'at' }), 'transient:bad_response');
  });
});
