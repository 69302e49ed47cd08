import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { platformServices, topicSpecs, topics } from '@qbo/events';
import {
  type AclBinding,
  aclEntries,
  kafkaAclsCommands,
  lagReaderAcls,
  platformAcls,
  serviceAcls,
} from './acls.js';

const has = (acls: readonly AclBinding[], operation: AclBinding['operation'], resourceName: string) =>
  acls.some((a) => a.operation === operation && a.resourceName === resourceName);

describe('topic ACLs from the contract', () => {
  it('lets each topic be written only by the services declared as its producers', () => {
    const all = platformAcls({ prefix: 'prod.' });
    for (const spec of topicSpecs) {
      const writers = all
        .filter((a) => a.operation === 'write' && a.resourceName === `prod.${spec.name}`)
        .map((a) => a.principal.slice('User:'.length))
        .sort();
      assert.deepEqual(writers, [...spec.producers].sort(), spec.name);
    }
    assert.ok(has(serviceAcls('auth-service', { prefix: 'prod.' }), 'write', 'prod.qbo.connections.v1'));
    assert.ok(!has(serviceAcls('sync-service', { prefix: 'prod.' }), 'write', 'prod.qbo.connections.v1'));
  });

  it('lets a consumer read its topics and write their dead-letter topics, and nothing of another’s', () => {
    const token = serviceAcls('token-service');
    assert.ok(has(token, 'read', topics.connections));
    assert.ok(has(token, 'write', `${topics.connections}.dlq`));
    assert.ok(!has(token, 'read', topics.webhooks));
    assert.ok(!token.some((a) => a.operation === 'read' && a.resourceName === topics.records));
  });

  it("limits a service's groups to its own prefix, and grants only read, write and describe", () => {
    for (const service of platformServices) {
      const groups = serviceAcls(service, { prefix: 'stg.' }).filter((a) => a.resourceType === 'group');
      assert.deepEqual(groups, [
        {
          principal: `User:${service}`,
          resourceType: 'group',
          patternType: 'prefixed',
          resourceName: `stg.${service}.`,
          operation: 'read',
        },
      ]);
    }
    assert.deepEqual(new Set(platformAcls().map((a) => a.operation)), new Set(['read', 'write', 'describe']));
  });

  it("gives the lag reader describe on the scaled service's groups and topics, and no read", () => {
    const keda = lagReaderAcls('keda', 'token-service');
    assert.ok(keda.every((a) => a.operation === 'describe' && a.principal === 'User:keda'));
    assert.ok(has(keda, 'describe', 'token-service.'));
    assert.ok(has(keda, 'describe', topics.connections));
  });

  it('prints kafka-acls commands and Admin API entries', () => {
    const [command] = kafkaAclsCommands(serviceAcls('webhook-ingest', { prefix: 'prod.' }));
    assert.equal(
      command,
      'kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$KAFKA_ADMIN_CONFIG" --add ' +
        '--allow-principal User:webhook-ingest --operation Read --topic prod.qbo.connections.v1 ' +
        '--resource-pattern-type literal',
    );
    const [entry] = aclEntries(serviceAcls('webhook-ingest'));
    assert.deepEqual(entry, {
      principal: 'User:webhook-ingest',
      host: '*',
      resourceType: 2,
      resourceName: topics.connections,
      resourcePatternType: 3,
      operation: 3,
      permissionType: 3,
    });
  });
});
