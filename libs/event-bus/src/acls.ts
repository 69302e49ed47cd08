import {
  catalog,
  type PlatformService,
  platformServices,
  type TopicName,
  type TopicSpec,
  topicSpecs,
} from '@qbo/events';
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import type { EventHandlers } from './consumer/handlers.js';
import { createTopicNames } from './topic-names.js';
import { consumerGroupId } from './wiring/group-id.js';

/** One allow rule: a principal may do one operation on a topic or group, named exactly or by prefix. */
export interface AclBinding {
  principal: `User:${string}`;
  resourceType: 'topic' | 'group';
  patternType: 'literal' | 'prefixed';
  resourceName: string;
  operation: 'read' | 'write' | 'describe';
}

export interface AclOptions {
  /** `KAFKA_TOPIC_PREFIX` of the environment: topics and groups carry it. */
  prefix?: string | undefined;
  /** The topics and who writes and reads each; the contract's by default. */
  specs?: readonly TopicSpec[];
}

/**
 * Each service's grants, derived from the contract's producer and consumer declarations: write on the topics
 * it produces, read on those it consumes (and write on their dead-letter topics), its consumer groups by
 * their one prefix (`<prefix><service>.`, see `consumerGroupId`), and describe on every contract topic, so
 * start-up provisioning finds them all and creates none (topics are created beforehand with an admin
 * credential). Nothing else: no create, alter or delete, no other service's topic.
 */
export function serviceAcls(
  service: PlatformService,
  { prefix = '', specs = topicSpecs }: AclOptions = {},
): AclBinding[] {
  const names = createTopicNames(prefix);
  const principal = `User:${service}` as const;
  const topic = (resourceName: string, operation: AclBinding['operation']): AclBinding => ({
    principal,
    resourceType: 'topic',
    patternType: 'literal',
    resourceName,
    operation,
  });
  const acls: AclBinding[] = [];
  for (const spec of specs) {
    if (spec.producers.includes(service)) acls.push(topic(names.physical(spec.name), 'write'));
    if (spec.consumers.includes(service)) {
      acls.push(topic(names.physical(spec.name), 'read'));
      if (spec.dlq) acls.push(topic(names.dlq(spec.name), 'write'));
    }
  }
  for (const spec of specs) {
    acls.push(topic(names.physical(spec.name), 'describe'));
    if (spec.dlq) acls.push(topic(names.dlq(spec.name), 'describe'));
  }
  acls.push({
    principal,
    resourceType: 'group',
    patternType: 'prefixed',
    // The group of a consumer named `x` is `<prefix><service>.x`: the prefix ends at the dot after the name.
    resourceName: consumerGroupId({ prefix, service, consumer: 'x' }).slice(0, -1),
    operation: 'read',
  });
  return acls;
}

/**
 * The topics a service's handlers read and the topics the contract says it consumes, both sorted: a service's
 * test asserts they are equal, so its read grants follow its code.
 */
export function consumption(
  service: PlatformService,
  handlers: readonly EventHandlers[],
): { handled: TopicName[]; declared: TopicName[] } {
  const handled = new Set(
    handlers.flatMap((h) => Object.keys(h).flatMap((type) => catalog.latest(type)?.topic ?? [])),
  );
  return {
    handled: [...handled].sort(),
    declared: topicSpecs
      .filter((s) => s.consumers.includes(service))
      .map((s) => s.name)
      .sort(),
  };
}

/**
 * What an autoscaler that reads a service's consumer lag needs (KEDA's Kafka scaler): describe on the
 * service's groups and on the topics it consumes, to compare committed and end offsets. It reads no message.
 */
export function lagReaderAcls(
  principal: string,
  service: PlatformService,
  { prefix = '', specs = topicSpecs }: AclOptions = {},
): AclBinding[] {
  const names = createTopicNames(prefix);
  return [
    {
      principal: `User:${principal}`,
      resourceType: 'group',
      patternType: 'prefixed',
      resourceName: consumerGroupId({ prefix, service, consumer: 'x' }).slice(0, -1),
      operation: 'describe',
    },
    ...specs
      .filter((s) => s.consumers.includes(service))
      .map(
        (s): AclBinding => ({
          principal: `User:${principal}`,
          resourceType: 'topic',
          patternType: 'literal',
          resourceName: names.physical(s.name),
          operation: 'describe',
        }),
      ),
  ];
}

/** The platform's whole set: every service's grants, and the lag reader's for the services it scales. */
export function platformAcls(
  options: AclOptions & { lagReader?: { principal: string; services: readonly PlatformService[] } } = {},
): AclBinding[] {
  const { lagReader, ...rest } = options;
  return [
    ...platformServices.flatMap((service) => serviceAcls(service, rest)),
    ...(lagReader?.services ?? []).flatMap((s) => lagReaderAcls(lagReader?.principal ?? 'keda', s, rest)),
  ];
}

const quote = (s: string) => (/^[A-Za-z0-9._:-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** Each binding as a `kafka-acls.sh` command, against `$KAFKA_BOOTSTRAP` with an admin's client properties. */
export function kafkaAclsCommands(acls: readonly AclBinding[]): string[] {
  return acls.map((a) =>
    [
      'kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$KAFKA_ADMIN_CONFIG" --add',
      `--allow-principal ${quote(a.principal)}`,
      `--operation ${a.operation[0]?.toUpperCase()}${a.operation.slice(1)}`,
      `--${a.resourceType} ${quote(a.resourceName)}`,
      `--resource-pattern-type ${a.patternType}`,
    ].join(' '),
  );
}

// kafkajs is CommonJS: its enums come through the default export only.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const operations = {
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  describe: AclOperationTypes.DESCRIBE,
} as const;

/** The bindings as the Admin API's entries. */
export function aclEntries(acls: readonly AclBinding[]): AclEntry[] {
  return acls.map((a) => ({
    principal: a.principal,
    host: '*',
    resourceType: a.resourceType === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: a.resourceName,
    resourcePatternType:
      a.patternType === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    operation: operations[a.operation],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Creates the bindings through an admin connection (a super user's); creating an existing one is harmless. */
export async function applyAcls(admin: Admin, acls: readonly AclBinding[]): Promise<void> {
  await admin.createAcls({ acl: aclEntries(acls) });
}
