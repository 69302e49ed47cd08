import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createIntuitOAuth, ExchangeError, type IntuitOAuth } from './oauth.js';

const REFRESH = 'refresh-token-issued-0001';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A fake Intuit token and revoke endpoint: what it issues is set per test, every revoke is recorded. */
describe('Intuit OAuth adapter: grants it refuses are revoked', () => {
  let server: Server;
  let intuit: IntuitOAuth;
  let issue: Record<string, unknown> = {};
  let revokeStatus = 200;
  const revoked: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/oauth2/v1/tokens/bearer') {
          res.end(JSON.stringify(issue));
        } else if (req.url === '/v2/oauth2/tokens/revoke') {
          revoked.push((JSON.parse(body) as { token: string }).token);
          res.statusCode = revokeStatus;
          res.end(revokeStatus === 200 ? '{}' : '{"error":"invalid_request"}');
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    intuit = createIntuitOAuth({
      clientId: 'client',
      clientSecret: 'client-secret',
      environment: 'sandbox',
      redirectUri: 'http://127.0.0.1/oauth/callback',
      scopes: ['com.intuit.quickbooks.accounting', 'openid'],
      baseUrl: `http://127.0.0.1:${port}`,
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    revoked.length = 0;
    revokeStatus = 200;
  });

  const exchange = () => intuit.exchange({ code: 'code', state: 'state', realmId: '4620816365' });
  const tokens = {
    token_type: 'bearer',
    access_token: 'access-0001',
    refresh_token: REFRESH,
    expires_in: 3600,
  };

  it('an ID token that does not validate: invalid_id_token, and the grant is revoked', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ iss: 'https://evil.example', aud: ['client'], realmid: '4620816365', exp: now + 60 })}.sig`;
    issue = { ...tokens, id_token: forged };
    await assert.rejects(
      exchange(),
      (err: unknown) => err instanceof ExchangeError && err.code === 'invalid_id_token',
    );
    assert.deepEqual(revoked, [REFRESH]);
  });

  it('no ID token: id_token_missing, and the grant is revoked', async () => {
    issue = tokens;
    await assert.rejects(
      exchange(),
      (err: unknown) => err instanceof ExchangeError && err.code === 'id_token_missing',
    );
    assert.deepEqual(revoked, [REFRESH]);
  });

  it('revoke sends the refresh token; a refusal is reported by code, without the token', async () => {
    await intuit.revoke('refresh-token-0002');
    assert.deepEqual(revoked, ['refresh-token-0002']);
    revokeStatus = 400;
    await assert.rejects(intuit.revoke('refresh-token-0003'), (err: unknown) => {
      assert.ok(err instanceof ExchangeError);
      assert.ok(!err.message.includes('refresh-token-0003'));
      return true;
    });
  });
});
