import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@qbo/service-kit';
import { configSchema } from './config.js';

const base = { DATABASE_URL: 'postgres://localhost/x', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('config', () => {
  it('reads several verifier tokens, each printed redacted', () => {
    const config = parseConfig(configSchema, {
      ...base,
      WEBHOOK_VERIFIER_TOKENS: 'old-verifier-token-1234, new-verifier-token-5678',
    });
    assert.deepEqual(
      config.WEBHOOK_VERIFIER_TOKENS?.map((t) => t.reveal()),
      ['old-verifier-token-1234', 'new-verifier-token-5678'],
    );
    assert.ok(!JSON.stringify(config).includes('verifier-token'));
  });

  it('refuses a verifier token too short to be Intuit’s, without repeating it', () => {
    assert.throws(
      () => parseConfig(configSchema, { ...base, WEBHOOK_VERIFIER_TOKENS: 'short' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('WEBHOOK_VERIFIER_TOKENS:')) &&
        !err.message.includes('short,') &&
        !err.problems.join().includes('"short"'),
    );
  });

  it('answers within two seconds and accepts 256 KiB bodies unless told otherwise', () => {
    const config = parseConfig(configSchema, base);
    assert.equal(config.WEBHOOK_DEADLINE_MS, 2_000);
    assert.equal(config.WEBHOOK_MAX_BODY_BYTES, 262_144);
  });

  it('refuses an event age at or over the dedupe window, which would let a replay through', () => {
    assert.throws(
      () =>
        parseConfig(configSchema, {
          ...base,
          WEBHOOK_DEDUPE_WINDOW_MS: '3600000',
          WEBHOOK_MAX_EVENT_AGE_MS: '3600000',
        }),
      (err: unknown) =>
        err instanceof ConfigError && err.problems.some((p) => p.startsWith('WEBHOOK_MAX_EVENT_AGE_MS:')),
    );
    const config = parseConfig(configSchema, base);
    assert.ok(config.WEBHOOK_MAX_EVENT_AGE_MS < config.WEBHOOK_DEDUPE_WINDOW_MS);
  });
});
