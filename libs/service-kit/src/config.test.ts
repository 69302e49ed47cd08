import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { z } from 'zod';
import { ConfigError, env, parseConfig, serviceEnvSchema } from './config.js';

const valid = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  KAFKA_BROKERS: '127.0.0.1:39092, 127.0.0.2:39092',
};

describe('parseConfig', () => {
  it('applies defaults and parses lists', () => {
    const config = parseConfig(serviceEnvSchema, valid);
    assert.equal(config.PORT, 8080);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.deepEqual(config.KAFKA_BROKERS, ['127.0.0.1:39092', '127.0.0.2:39092']);
    assert.ok(Object.isFrozen(config));
  });

  it('lists every missing or bad variable by name, without its value', () => {
    let error: unknown;
    try {
      parseConfig(serviceEnvSchema, { PORT: 'http', DATABASE_URL: 'mysql://x/y', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    const names = error.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(names, ['DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL', 'PORT']);
    assert.ok(error.problems.includes('KAFKA_BROKERS: is required'));
    assert.doesNotMatch(error.message, /mysql|loud|http\b/);
  });

  it('treats an empty variable as unset', () => {
    const config = parseConfig(serviceEnvSchema, { ...valid, PORT: '' });
    assert.equal(config.PORT, 8080);
  });

  it('reads NAME_FILE for variables the schema declares, and refuses both forms at once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const file = join(dir, 'secret');
    writeFileSync(file, 'a-very-long-secret-value\n');
    const schema = z.object({ CLIENT_SECRET: env.secret() });
    const config = parseConfig(schema, { CLIENT_SECRET_FILE: file, UNRELATED_FILE: '/nonexistent' });
    assert.equal(config.CLIENT_SECRET.reveal(), 'a-very-long-secret-value');
    assert.throws(
      () => parseConfig(schema, { CLIENT_SECRET_FILE: file, CLIENT_SECRET: 'x'.repeat(20) }),
      ConfigError,
    );
    assert.throws(
      () => parseConfig(schema, { CLIENT_SECRET_FILE: join(dir, 'missing') }),
      /CLIENT_SECRET_FILE/,
    );
  });

  it('keeps secrets out of every string form', () => {
    const config = parseConfig(z.object({ CLIENT_SECRET: env.secret() }), {
      CLIENT_SECRET: 'super-secret-value-123',
    });
    const forms = [
      `${config.CLIENT_SECRET}`,
      JSON.stringify(config),
      inspect(config),
      String(config.CLIENT_SECRET),
    ];
    for (const form of forms) assert.doesNotMatch(form, /super-secret/);
  });
});
