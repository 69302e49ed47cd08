import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@qbo/service-kit';
import { configSchema } from './config.js';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/qbo',
  KAFKA_BROKERS: '127.0.0.1:39092',
  QBO_CLIENT_ID: 'client',
  QBO_CLIENT_SECRET: 'client-secret-value',
  QBO_REDIRECT_URI: 'https://connect.example.com/oauth/callback',
  TOKEN_SERVICE_URL: 'http://token-service:8081',
  TOKEN_SERVICE_CREDENTIAL: 'service-credential-value',
  STATE_COOKIE_SECRET: 'cookie-secret-0123456789abcdef0123456789',
  RETURN_TO_ALLOWED_ORIGINS: 'https://app.example.com',
  AUTH_JWT_SECRET: 'jwt-secret-0123456789abcdef0123456789ab',
  AUTH_JWT_ISSUER: 'https://platform.example.com',
  AUTH_JWT_AUDIENCE: 'qbo-auth',
};

const problems = (env: Record<string, string | undefined>): string[] => {
  try {
    parseConfig(configSchema, env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
};

describe('auth-service configuration', () => {
  it('accepts a complete environment with secure defaults', () => {
    const c = parseConfig(configSchema, valid);
    assert.equal(c.PORT, 8080);
    assert.equal(c.STATE_COOKIE_SECURE, true);
    assert.equal(c.QBO_PKCE, true);
    assert.deepEqual(c.TRUSTED_PROXY_CIDRS, []);
    assert.deepEqual(c.QBO_SCOPES, ['com.intuit.quickbooks.accounting', 'openid']);
    assert.deepEqual(c.CORS_ALLOWED_ORIGINS, []);
  });

  it('refuses wildcards and non-origins in the allowlists', () => {
    for (const value of ['*', 'https://*.example.com', 'https://app.example.com/', 'app.example.com']) {
      const p = problems({ ...valid, CORS_ALLOWED_ORIGINS: value, RETURN_TO_ALLOWED_ORIGINS: value });
      assert.ok(
        p.some((x) => x.startsWith('CORS_ALLOWED_ORIGINS:')),
        value,
      );
      assert.ok(
        p.some((x) => x.startsWith('RETURN_TO_ALLOWED_ORIGINS:')),
        value,
      );
    }
  });

  it('needs one org-verifier key, and a cookie secret of 32 characters or more', () => {
    const { AUTH_JWT_SECRET: _omit, ...noKey } = valid;
    assert.ok(problems(noKey).some((p) => p.startsWith('AUTH_JWT_SECRET:')));
    const short = problems({ ...valid, STATE_COOKIE_SECRET: 'too-short-secret' });
    assert.ok(short.some((p) => p.startsWith('STATE_COOKIE_SECRET:')));
    assert.ok(!short.join(' ').includes('too-short-secret'), 'the value is not echoed');
  });

  it('refuses scopes without openid, naming the variable and the reason', () => {
    const p = problems({ ...valid, QBO_SCOPES: 'com.intuit.quickbooks.accounting' });
    const scopes = p.find((x) => x.startsWith('QBO_SCOPES:'));
    assert.ok(scopes, p.join('; '));
    assert.match(scopes, /openid/);
    assert.match(scopes, /realmId/);
    assert.deepEqual(problems({ ...valid, QBO_SCOPES: 'com.intuit.quickbooks.accounting,openid' }), []);
  });

  it('allows an insecure state cookie only for a localhost or 127.0.0.1 redirect URI', () => {
    const insecure = problems({ ...valid, STATE_COOKIE_SECURE: 'false' });
    assert.ok(
      insecure.some((x) => x.startsWith('STATE_COOKIE_SECURE:')),
      insecure.join('; '),
    );
    for (const host of ['127.0.0.1:4100', 'localhost:8080']) {
      const uri = `http://${host}/oauth/callback`;
      assert.deepEqual(problems({ ...valid, STATE_COOKIE_SECURE: 'false', QBO_REDIRECT_URI: uri }), [], host);
    }
    assert.ok(
      problems({
        ...valid,
        STATE_COOKIE_SECURE: 'false',
        QBO_REDIRECT_URI: 'http://localhost.evil.example/oauth/callback',
      }).some((x) => x.startsWith('STATE_COOKIE_SECURE:')),
    );
  });
});

describe('auth-service configuration of the proxies in front', () => {
  it('takes addresses and CIDR ranges of trusted proxies, and refuses anything else', () => {
    const c = parseConfig(configSchema, { ...valid, TRUSTED_PROXY_CIDRS: '10.0.0.0/8, 127.0.0.1,fd00::/8' });
    assert.deepEqual(c.TRUSTED_PROXY_CIDRS, ['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    for (const bad of ['10.0.0.0/33', 'ingress.internal', '*'])
      assert.ok(
        problems({ ...valid, TRUSTED_PROXY_CIDRS: bad }).some((x) => x.startsWith('TRUSTED_PROXY_CIDRS:')),
        bad,
      );
  });

  it('refuses the former TRUST_PROXY, pointing to TRUSTED_PROXY_CIDRS', () => {
    const p = problems({ ...valid, TRUST_PROXY: 'true' });
    assert.ok(
      p.some((x) => x.startsWith('TRUST_PROXY:') && x.includes('TRUSTED_PROXY_CIDRS')),
      p.join('; '),
    );
  });
});
