import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, parseConfig, serviceEnvSchema } from './config.js';
import { kafkaSecurity } from './kafka-security.js';

const base = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', KAFKA_BROKERS: '127.0.0.1:39092' };
const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const PASSWORD = 'correct-horse-battery-staple';

const security = (env: Record<string, string>) =>
  kafkaSecurity(parseConfig(serviceEnvSchema, { ...base, ...env }));
const problems = (env: Record<string, string>): string[] => {
  try {
    security(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  assert.fail('the configuration was accepted');
};

describe('kafkaSecurity', () => {
  it('is plaintext and unauthenticated when nothing is set', () => {
    assert.deepEqual(security({}), {});
  });

  it('verifies the broker against the CA file and authenticates with SCRAM-SHA-512', () => {
    const result = security({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: file('ca.pem', CERT),
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'sync-service',
      KAFKA_SASL_PASSWORD_FILE: file('password', `${PASSWORD}\n`),
    });
    assert.deepEqual(result.ssl, { ca: CERT.trim() });
    assert.equal(result.sasl?.mechanism, 'scram-sha-512');
    assert.equal((result.sasl as { username: string }).username, 'sync-service');
    assert.equal((result.sasl as { password: string }).password, PASSWORD, 'kafkajs reads the password');
    assert.doesNotMatch(`${JSON.stringify(result)} ${inspect(result, { depth: 5 })}`, new RegExp(PASSWORD));
  });

  it("uses the system's CAs with KAFKA_SSL alone, and a client certificate with its key for mutual TLS", () => {
    assert.equal(security({ KAFKA_SSL: 'true' }).ssl, true);
    assert.deepEqual(
      security({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CERT_FILE: file('client.pem', CERT),
        KAFKA_SSL_KEY_FILE: file('client.key', KEY),
      }).ssl,
      { cert: CERT.trim(), key: KEY.trim() },
    );
  });

  it('names every variable that does not fit, never its value', () => {
    const found = problems({
      KAFKA_SSL_KEY_FILE: file('not-a-key', 'hello'),
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    assert.deepEqual(found, [
      'KAFKA_SSL_KEY: set only with KAFKA_SSL=true',
      'KAFKA_SSL_CERT, KAFKA_SSL_KEY: a client certificate needs its key, and a key its certificate',
      'KAFKA_SSL_KEY: holds no PEM key',
      'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_MECHANISM: PLAIN sends the password in clear; it needs KAFKA_SSL=true',
    ]);
    assert.doesNotMatch(found.join('\n'), new RegExp(PASSWORD));
  });

  it('reports a CA file that cannot be read by its variable', () => {
    assert.throws(
      () => security({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.join() === 'KAFKA_SSL_CA_FILE: cannot read the file it names',
    );
  });

  it('refuses credentials without a mechanism, and an unknown mechanism by name', () => {
    assert.deepEqual(problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD }), [
      'KAFKA_SASL_MECHANISM: is required when a SASL user name or password is set',
    ]);
    assert.throws(
      () => security({ KAFKA_SASL_MECHANISM: 'GSSAPI' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p === 'KAFKA_SASL_MECHANISM: must be SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN'),
    );
  });
});
