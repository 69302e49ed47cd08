/**
 * Every topic the platform writes, named `qbo.<stream>.v<N>`. A breaking change to a stream is a new topic
 * version (dual-published during migration), never an edit in place.
 */
export const topics = {
  connections: 'qbo.connections.v1',
  tokens: 'qbo.tokens.v1',
  webhooks: 'qbo.webhooks.v1',
  records: 'qbo.records.v1',
  syncRuns: 'qbo.sync-runs.v1',
  commands: 'qbo.commands.v1',
  /** Webhook changes that cannot be routed to an org yet (unknown realm) or could not be parsed. */
  webhooksParked: 'qbo.webhooks.parked.v1',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];
export type DlqTopicName = `${TopicName}.dlq`;

/** What partitions a topic's messages: the org, so one org's events stay in order; or the realm, for parked changes that belong to no org yet. */
export type KeyField = 'orgId' | 'realmId';

export interface TopicSpec {
  name: TopicName;
  description: string;
  key: KeyField;
  /** `long` topics keep messages for the parking retention (replayed when the realm appears). */
  retention: 'standard' | 'long';
  /** Whether consumers of this topic send poison messages to `<topic>.dlq`. */
  dlq: boolean;
}

export const topicSpecs: readonly TopicSpec[] = [
  {
    name: topics.connections,
    description: 'Connection lifecycle and security audit, written by auth-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.tokens,
    description: 'Token rotation and connection health, written by token-service. Never a secret.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.webhooks,
    description: 'Verified Intuit change notifications routed to an org, written by webhook-ingest.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.records,
    description: 'Mirrored record changes (upserts and deletes), written by sync-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.syncRuns,
    description: 'Sync run lifecycle and push results, written by sync-service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.commands,
    description: 'Commands to sync-service: push a record, run a sync. Written by any platform service.',
    key: 'orgId',
    retention: 'standard',
    dlq: true,
  },
  {
    name: topics.webhooksParked,
    description: 'Webhook changes of unknown realms or unparsable bodies, kept for replay and inspection.',
    key: 'realmId',
    retention: 'long',
    dlq: false,
  },
];

export const dlqTopic = (topic: TopicName): DlqTopicName => `${topic}.dlq`;

export function topicSpec(name: TopicName): TopicSpec {
  const spec = topicSpecs.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown topic: ${name}`);
  return spec;
}

/** The Kafka key of an event on its topic: the org, or for parked changes the realm (the event id when none). */
export function keyFor(
  topic: TopicName,
  event: { id: string; orgId: string; realmId?: string | undefined },
): string {
  return topicSpec(topic).key === 'orgId' ? event.orgId : (event.realmId ?? event.id);
}
