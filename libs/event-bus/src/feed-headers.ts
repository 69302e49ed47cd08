import type { AnyEnvelope, TopicName } from '@qbo/events';
import { topics } from '@qbo/events';

/**
 * The change feed's message headers, computed here only: CloudEvents attributes in the Kafka binding's binary
 * mode (`ce_*`, https://github.com/cloudevents/spec/blob/main/cloudevents/bindings/kafka-protocol-binding.md)
 * and plain `entity` and `op` headers, so a consumer can route or filter a message without decoding it. The
 * value stays the platform's envelope (registry wire format), not a bare CloudEvents `data`.
 */
export const feedHeaderNames = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  type: 'ce_type',
  source: 'ce_source',
  time: 'ce_time',
  subject: 'ce_subject',
  sequence: 'ce_sequence',
  entity: 'entity',
  op: 'op',
} as const;

const feedTopics: ReadonlySet<TopicName> = new Set([topics.records, topics.recordsState]);

interface FeedData {
  realmId?: string;
  entity?: string;
  entityId?: string;
  seq?: string;
  op?: string;
}

/** The CloudEvents type of an event: the platform's name, the event type and its version. */
export const cloudEventType = (type: string, version: number): string => `qbo-platform.${type}.v${version}`;

/** Headers of an event on a feed topic (`qbo.records.v1`, `qbo.records.state.v1`); none on other topics. */
export function feedHeaders(event: AnyEnvelope, topic: TopicName): Record<string, string> | undefined {
  if (!feedTopics.has(topic)) return undefined;
  const data = event.data as FeedData;
  const n = feedHeaderNames;
  return {
    [n.specversion]: '1.0',
    [n.id]: event.id,
    [n.type]: cloudEventType(event.type, event.version),
    [n.source]: `/orgs/${event.orgId}/realms/${data.realmId ?? event.realmId}`,
    [n.time]: event.time,
    ...(data.entity && data.entityId ? { [n.subject]: `${data.entity}/${data.entityId}` } : {}),
    ...(data.seq ? { [n.sequence]: data.seq } : {}),
    ...(data.entity ? { [n.entity]: data.entity } : {}),
    ...(data.op ? { [n.op]: data.op } : {}),
  };
}

/**
 * Headers of a state-topic tombstone. A tombstone is not an event (no value, no CloudEvents attributes); it
 * says which record it removes, and the `seq` of the delete that caused it.
 */
export function tombstoneHeaders(deleted: { entity: string; seq: string }): Record<string, string> {
  return { [feedHeaderNames.entity]: deleted.entity, [feedHeaderNames.op]: 'd', seq: deleted.seq };
}
