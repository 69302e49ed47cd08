import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@qbo/service-kit';
import { eventBusEnvSchema } from './config.js';

describe('event bus configuration', () => {
  it('defaults to no registry, no prefix and twelve partitions', () => {
    const config = parseConfig(eventBusEnvSchema, {});
    assert.equal(config.SCHEMA_REGISTRY_URL, undefined);
    assert.equal(config.KAFKA_TOPIC_PREFIX, undefined);
    assert.equal(config.KAFKA_TOPIC_PARTITIONS, 12);
    assert.equal(config.KAFKA_TOPIC_REPLICATION, 1);
  });

  it('refuses a prefix that would not end a topic name segment', () => {
    assert.throws(() => parseConfig(eventBusEnvSchema, { KAFKA_TOPIC_PREFIX: 'Staging' }), ConfigError);
    assert.equal(
      parseConfig(eventBusEnvSchema, { KAFKA_TOPIC_PREFIX: 'staging.' }).KAFKA_TOPIC_PREFIX,
      'staging.',
    );
  });
});
