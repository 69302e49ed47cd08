import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@qbo/service-kit';
import { callersOf, configSchema, keyRingOf } from './config.js';

const k = randomBytes(32).toString('base64');
const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  KAFKA_BROKERS: '127.0.0.1:39092',
  TOKEN_API_CALLERS:
    'auth-service=a-service-credential-0001,a-service-credential-0002;sync-service=a-service-credential-0003',
  QBO_CLIENT_ID: 'client',
  QBO_CLIENT_SECRET: 'client-secret-value',
};
const problems = (env: Record<string, string>) => {
  try {
    parseConfig(configSchema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.join('\n');
    throw err;
  }
  return '';
};

describe('token-service configuration', () => {
  it('reads the key ring and keeps credentials and keys out of its printed form', () => {
    const config = parseConfig(configSchema, { ...base, TOKEN_KEYS: `k1:${k}`, TOKEN_ACTIVE_KEY_ID: 'k1' });
    assert.equal(keyRingOf(config)?.active.kid, 'k1');
    assert.deepEqual(callersOf(config).get('auth-service')?.length, 2);
    const printed = JSON.stringify(config);
    assert.ok(
      !printed.includes(k) && !printed.includes('a-service-credential') && !printed.includes('client-secret'),
    );
  });

  it('requires the key ring unless an ephemeral key is explicitly allowed, and never allows one in production', () => {
    assert.match(problems(base), /^TOKEN_KEYS: is required/m, 'no NODE_ENV is no excuse for a missing ring');
    assert.equal(problems({ ...base, TOKEN_ALLOW_EPHEMERAL_KEY: 'true' }), '');
    assert.equal(
      keyRingOf(parseConfig(configSchema, { ...base, TOKEN_ALLOW_EPHEMERAL_KEY: 'true' })),
      undefined,
    );
    const prod = problems({ ...base, NODE_ENV: 'production', TOKEN_ALLOW_EPHEMERAL_KEY: 'true' });
    assert.match(prod, /^TOKEN_ALLOW_EPHEMERAL_KEY: is refused in production$/m);
    assert.match(problems({ ...base, NODE_ENV: 'production' }), /^TOKEN_KEYS: is required/m);
  });

  it('accepts the crash hook only with NODE_ENV=test', () => {
    const ring = { ...base, TOKEN_KEYS: `k1:${k}`, TOKEN_ACTIVE_KEY_ID: 'k1' };
    const crash = { TOKEN_TEST_CRASH_AT: 'after_commit' };
    assert.match(
      problems({ ...ring, ...crash }),
      /^TOKEN_TEST_CRASH_AT: is accepted only with NODE_ENV=test$/m,
    );
    assert.match(
      problems({ ...base, ...crash, TOKEN_ALLOW_EPHEMERAL_KEY: 'true', NODE_ENV: 'development' }),
      /^TOKEN_TEST_CRASH_AT: /m,
    );
    assert.match(problems({ ...ring, ...crash, NODE_ENV: 'production' }), /^TOKEN_TEST_CRASH_AT: /m);
    assert.equal(problems({ ...ring, ...crash, NODE_ENV: 'test' }), '');
  });

  it('names a broken key ring without echoing key material, and requires the service credentials', () => {
    const short = randomBytes(16).toString('base64');
    const text = problems({ ...base, TOKEN_KEYS: `k1:${short}`, TOKEN_ACTIVE_KEY_ID: 'k1' });
    assert.match(text, /^TOKEN_KEYS: key k1 must be 32 bytes/m);
    assert.ok(!text.includes(short));
    assert.match(
      problems({ ...base, TOKEN_KEYS: `k1:${k}`, TOKEN_ACTIVE_KEY_ID: 'k9' }),
      /TOKEN_KEYS: the active key id k9/,
    );
    const { TOKEN_API_CALLERS: _omitted, ...rest } = base;
    assert.match(problems(rest), /^TOKEN_API_CALLERS: is required$/m);
  });

  it('gives each caller its own credentials and names a bad entry by caller, never by secret', () => {
    const text = problems({
      ...base,
      TOKEN_ALLOW_EPHEMERAL_KEY: 'true',
      TOKEN_API_CALLERS: 'auth-service=shared-credential-0001;sync-service=shared-credential-0001;billing=x',
    });
    assert.match(text, /^TOKEN_API_CALLERS: sync-service and auth-service share a credential/m);
    assert.match(text, /^TOKEN_API_CALLERS: unknown caller billing/m);
    assert.ok(!text.includes('shared-credential'));
    assert.match(
      problems({ ...base, TOKEN_ALLOW_EPHEMERAL_KEY: 'true', TOKEN_API_CALLERS: 'operator=short' }),
      /^TOKEN_API_CALLERS: each credential of operator must be at least 16/m,
    );
  });

  it('refuses the flat credential list it replaced, so an old deployment fails at start-up', () => {
    assert.match(
      problems({ ...base, TOKEN_ALLOW_EPHEMERAL_KEY: 'true', TOKEN_SERVICE_CREDENTIALS: 'x'.repeat(20) }),
      /^TOKEN_SERVICE_CREDENTIALS: is replaced by TOKEN_API_CALLERS/m,
    );
  });
});
