import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { platformServices, topics } from '@qbo/events';
import { type SecureBroker, startSecure } from '@qbo/local-kafka';
import { parseConfig } from '@qbo/service-kit';
import { waitFor } from '@qbo/testkit';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import { platformAcls } from './acls.js';
import { plannedTopics } from './provision.js';
import { kafkaSetupEnvSchema, setupKafka } from './setup.js';
import { testLogger } from './testing/bus.js';
import { createTopicNames } from './topic-names.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

// Its own ports (below Linux's ephemeral range) and folder: the suite's plain broker is left alone.
const BROKER = { port: 29792, controllerPort: 29793 };
const prefix = 'setup.';
const dir = mkdtempSync(join(tmpdir(), 'kafka-setup-'));
const passwords = { 'token-service': `ts-${crypto.randomUUID()}`, exporter: `ex-${crypto.randomUUID()}` };

describe('setupKafka on a SASL_SSL broker with the authorizer on', () => {
  let broker: SecureBroker;
  const client = (user: string, password: string) =>
    new Kafka({
      clientId: `setup-test-${user}`,
      brokers: [broker.address],
      ...broker.clientSecurity(user, password),
      logLevel: logLevel.NOTHING,
      retry: { retries: 1 },
    });
  /** The setup's environment as compose gives it, with the password from a file. */
  const envAs = (user: string, password: string) => {
    const passwordFile = join(dir, `${user}.password`);
    writeFileSync(passwordFile, password, { mode: 0o600 });
    return parseConfig(kafkaSetupEnvSchema, {
      KAFKA_BROKERS: broker.address,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_TOPIC_PARTITIONS: '1',
      KAFKA_LAG_READER: 'exporter',
    });
  };

  before(async () => {
    broker = await startSecure({ ...BROKER, runDir: join(dir, 'broker'), users: passwords });
  });
  after(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("as the admin creates every contract topic and the contract's and the lag reader's ACLs, twice without harm", async () => {
    const config = envAs(broker.superUser.name, broker.superUser.password);
    await setupKafka(config, testLogger());
    await setupKafka(config, testLogger());

    const admin = client(broker.superUser.name, broker.superUser.password).admin();
    await admin.connect();
    try {
      const names = createTopicNames(prefix);
      const planned = plannedTopics({
        names,
        partitions: 1,
        replicationFactor: 1,
        retentionMs: 1,
        parkingRetentionMs: 1,
        dlqRetentionMs: 1,
      }).map((t) => t.topic);
      const existing = new Set(await admin.listTopics());
      assert.deepEqual(
        planned.filter((t) => !existing.has(t)),
        [],
      );
      // A topic several services consume carries one describe grant for the lag reader, not one per service.
      const expected = new Set(
        platformAcls({ prefix, lagReader: { principal: 'exporter', services: platformServices } }).map((a) =>
          JSON.stringify(a),
        ),
      );
      // The broker's authorizer applies the controller's ACL records behind the create: read until it holds
      // as many as expected, and fail if it never does or holds more.
      const bindings = await waitFor(
        async () => {
          const { resources } = await admin.describeAcls({
            resourceType: AclResourceTypes.ANY,
            resourcePatternType: ResourcePatternTypes.ANY,
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ANY,
          });
          const n = resources.reduce((sum, r) => sum + r.acls.length, 0);
          return n >= expected.size && n;
        },
        { timeoutMs: 15_000, what: `${expected.size} ACL bindings on the broker` },
      );
      assert.equal(bindings, expected.size);
    } finally {
      await admin.disconnect();
    }

    // The lag reader sees the offsets of a topic token-service consumes, and may write nothing.
    const exporter = client('exporter', passwords.exporter);
    const reader = exporter.admin();
    await reader.connect();
    try {
      const offsets = await reader.fetchTopicOffsets(createTopicNames(prefix).physical(topics.connections));
      assert.equal(offsets.length, 1);
    } finally {
      await reader.disconnect();
    }
    const producer = exporter.producer();
    await producer.connect();
    try {
      await assert.rejects(
        producer.send({ topic: `${prefix}${topics.tokens}`, messages: [{ value: 'x' }] }),
        /authoriz/i,
      );
    } finally {
      await producer.disconnect();
    }
  });

  it("as a service's user is refused: only an admin may create topics and ACLs", async () => {
    await assert.rejects(
      setupKafka(envAs('token-service', passwords['token-service']), testLogger()),
      /authoriz/i,
    );
  });
});
