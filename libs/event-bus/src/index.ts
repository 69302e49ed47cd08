export {
  type AclBinding,
  type AclOptions,
  aclEntries,
  applyAcls,
  consumption,
  kafkaAclsCommands,
  lagReaderAcls,
  platformAcls,
  serviceAcls,
} from './acls.js';
export { type EventBusConfig, eventBusEnvSchema, eventBusEnvShape } from './config.js';
export { backoffDelay, defaultRetryPolicy, type RetryPolicy } from './consumer/backoff.js';
export {
  type ConsumerStats,
  createEventConsumer,
  type EventConsumer,
  type EventConsumerOptions,
} from './consumer/consumer.js';
export { type FailureSummary, summarize } from './consumer/failure.js';
export type { EventHandler, EventHandlers, HandlerContext } from './consumer/handlers.js';
export type { PartitionLag } from './consumer/lag.js';
export { cloudEventType, feedHeaderNames, feedHeaders, tombstoneHeaders } from './feed-headers.js';
export { dlqHeaderNames, headerNames, headerString } from './headers.js';
export {
  createInbox,
  exactlyOnce,
  type Inbox,
  type InboxOptions,
  type TransactionalHandler,
} from './inbox/inbox.js';
export { EventTooLargeError, messageBytes } from './message-size.js';
export { eventBusMigrations } from './migrations.js';
export { createOutbox, type Outbox, type OutboxOptions } from './outbox/outbox.js';
export {
  createOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRow,
  type RelayStats,
} from './outbox/relay.js';
export {
  createEventProducer,
  type EventProducer,
  type EventProducerOptions,
  type ValidatedEvent,
} from './producer.js';
export {
  type CompactionSettings,
  defaultCompaction,
  type ProvisionOptions,
  plannedTopics,
  provisionFromConfig,
  provisionTopics,
} from './provision.js';
export { createSerde } from './serde/create-serde.js';
export { createJsonSerde } from './serde/json-serde.js';
export { createRegistrySerde, type RegistrySerdeOptions, subjectOf } from './serde/registry-serde.js';
export { DecodeError, type DecodeErrorCode, type Serde } from './serde/serde.js';
export { createTopicNames, type TopicNames } from './topic-names.js';
export { createTracedEventFactory } from './traced-event-factory.js';
export { currentTraceparent, parentContext, parseTraceparent } from './tracing.js';
export { consumerGroupId } from './wiring/group-id.js';
export { runConsumer, runOutboxRelay } from './wiring/run-in-service.js';
export {
  type ConsumeOptions,
  createServiceBus,
  type ServiceBus,
  type ServiceBusDeps,
} from './wiring/service-bus.js';
