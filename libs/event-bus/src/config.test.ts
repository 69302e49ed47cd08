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

  it('defaults the message limit to 1 MiB and the state topic to an hour of lag, a week of tombstones, daily segments', () => {
    const config = parseConfig(eventBusEnvSchema, {});
    assert.equal(config.KAFKA_MAX_MESSAGE_BYTES, 1_048_576);
    assert.equal(config.KAFKA_STATE_MIN_COMPACTION_LAG_MS, 3_600_000);
    assert.equal(config.KAFKA_STATE_DELETE_RETENTION_MS, 604_800_000);
    assert.equal(config.KAFKA_STATE_SEGMENT_MS, 86_400_000);
    assert.equal(
      parseConfig(eventBusEnvSchema, { KAFKA_MAX_MESSAGE_BYTES: '4194304' }).KAFKA_MAX_MESSAGE_BYTES,
      4_194_304,
    );
  });

  it('refuses a prefix that would not end a topic name segment', () => {
    assert.throws(() => parseConfig(eventBusEnvSchema, { KAFKA_TOPIC_PREFIX: 'Staging' }), ConfigError);
    assert.equal(
      parseConfig(eventBusEnvSchema, { KAFKA_TOPIC_PREFIX: 'staging.' }).KAFKA_TOPIC_PREFIX,
      'staging.',
    );
  });
});
