/**
 * Every topic the platform writes, named `qbo.<stream>.v<N>`. A breaking change to a stream is a new topic
 * version (dual-published during migration), never an edit in place.
 */
export const topics = {
  connections: 'qbo.connections.v1',
  /** Refused connect attempts (security audit), apart from the connection lifecycle: sampled, never a flood. */
  connectionsAudit: 'qbo.connections.audit.v1',
  tokens: 'qbo.tokens.v1',
  webhooks: 'qbo.webhooks.v1',
  records: 'qbo.records.v1',
  /** Compacted: the latest state of each record, a tombstone after its delete. */
  recordsState: 'qbo.records.state.v1',
  syncRuns: 'qbo.sync-runs.v1',
  commands: 'qbo.commands.v1',
  /** Webhook changes that cannot be routed to an org yet (unknown realm) or could not be parsed. */
  webhooksParked: 'qbo.webhooks.parked.v1',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];

/** The platform's services: each is a Kafka principal of its own (its SCRAM user), named like the service. */
export const platformServices = ['auth-service', 'token-service', 'sync-service', 'webhook-ingest'] as const;
export type PlatformService = (typeof platformServices)[number];
export type DlqTopicName = `${TopicName}.dlq`;

/**
 * What partitions a topic's messages: the org, so one org's events stay in order; the realm, for parked
 * changes that belong to no org yet; or the record (`orgId:realmId:entity:entityId`), so compaction keeps
 * each record's latest state.
 */
export type KeyField = 'orgId' | 'realmId' | 'record';

export interface TopicSpec {
  name: TopicName;
  description: string;
  key: KeyField;
  /** `long` topics keep messages for the parking retention (replayed when the realm appears). */
  retention: 'standard' | 'long';
  /** Whether consumers of this topic send poison messages to `<topic>.dlq`. */
  dlq: boolean;
  /** `compact` keeps the newest message per key (and tombstones for a while) instead of expiring by age. */
  cleanup: 'delete' | 'compact';
  /** The services that write it: the only principals the topic ACLs let write (see `@qbo/event-bus` acls). */
  producers: readonly PlatformService[];
  /** The services whose consumers read it (and write its DLQ). Readers outside the platform get their own grant. */
  consumers: readonly PlatformService[];
}

export const topicSpecs: readonly TopicSpec[] = [
  {
    name: topics.connections,
    description: 'Connection lifecycle, written by auth-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    producers: ['auth-service'],
    consumers: ['token-service', 'sync-service', 'webhook-ingest'],
  },
  {
    name: topics.connectionsAudit,
    description:
      'Refused connect attempts (security audit), sampled per reason and window with counts, written by auth-service.',
    key: 'orgId',
    retention: 'standard',
    // Read by security tooling, not by a platform consumer: there is no consumer to send poison messages aside.
    dlq: false,
    cleanup: 'delete',
    producers: ['auth-service'],
    consumers: [],
  },
  {
    name: topics.tokens,
    description: 'Token rotation and connection health, written by token-service. Never a secret.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    producers: ['token-service'],
    consumers: ['auth-service', 'sync-service'],
  },
  {
    name: topics.webhooks,
    description: 'Verified Intuit change notifications routed to an org, written by webhook-ingest.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    producers: ['webhook-ingest'],
    consumers: ['sync-service'],
  },
  {
    name: topics.records,
    description: 'Mirrored record changes (upserts and deletes), written by sync-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    producers: ['sync-service'],
    consumers: [],
  },
  {
    name: topics.recordsState,
    description:
      'The latest state of every mirrored record, compacted, with a tombstone after each delete: for bootstraps.',
    key: 'record',
    retention: 'standard',
    // Its readers bootstrap from it with their own client; a poison message is skipped by re-reading the log.
    dlq: false,
    cleanup: 'compact',
    producers: ['sync-service'],
    consumers: [],
  },
  {
    name: topics.syncRuns,
    description: 'Sync run lifecycle and push results, written by sync-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    producers: ['sync-service'],
    consumers: ['auth-service'],
  },
  {
    name: topics.commands,
    description:
      'Commands to sync-service: push a record, run a sync, retry failures, pause or resume, set the interval. No platform service writes it; a sender outside them (an operator, an API) gets a grant of its own.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
    cleanup: 'delete',
    // No platform service sends commands yet; a sender outside it (an operator, the platform's own API)
    // gets a grant of its own.
    producers: [],
    consumers: ['sync-service'],
  },
  {
    name: topics.webhooksParked,
    description: 'Webhook changes of unknown realms or unparsable bodies, kept for replay and inspection.',
    key: 'realmId',
    retention: 'long',
    dlq: false,
    cleanup: 'delete',
    producers: ['webhook-ingest'],
    consumers: [],
  },
];

export const dlqTopic = (topic: TopicName): DlqTopicName => `${topic}.dlq`;

export function topicSpec(name: TopicName): TopicSpec {
  const spec = topicSpecs.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown topic: ${name}`);
  return spec;
}

/** The key of a record on the state topic: `orgId:realmId:entity:entityId`. */
export const stateKey = (r: { orgId: string; realmId: string; entity: string; entityId: string }): string =>
  `${r.orgId}:${r.realmId}:${r.entity}:${r.entityId}`;

/**
 * The Kafka key of an event on its topic: the org; for parked changes the realm (the event id when none); on
 * the state topic the record (see `stateKey`).
 */
export function keyFor(
  topic: TopicName,
  event: { id: string; orgId: string; realmId?: string | undefined; data?: unknown },
): string {
  const kind = topicSpec(topic).key;
  if (kind === 'orgId') return event.orgId;
  if (kind === 'realmId') return event.realmId ?? event.id;
  const data = event.data as { realmId: string; entity: string; entityId: string };
  return stateKey({ orgId: event.orgId, ...data });
}
