export {
  type Catalog,
  type CatalogDefinition,
  type CatalogEvent,
  catalog,
  createCatalog,
  defineUpcaster,
  definitions,
  type EventOfType,
  type EventType,
  UnknownEventError,
  type Upcaster,
  upcasters,
} from './catalog.js';
export { contentHash } from './content-hash.js';
export { createEventFactory, type EventFactory, type EventFactoryOptions } from './create-event.js';
export {
  defineEvent,
  type EventDefinition,
  type EventInput,
  type EventOf,
  type EventSpec,
  toJsonSchema,
} from './define-event.js';
export { type AnyEnvelope, envelopeSchema, envelopeShape, TRACEPARENT } from './envelope.js';
export {
  DeleteRecord,
  DeleteRecordV1,
  PauseSync,
  RequestSync,
  ResumeSync,
  RetryRunErrors,
  RetrySyncError,
  SetSyncInterval,
  UpsertRecord,
  UpsertRecordV1,
} from './events/commands.js';
export {
  ConnectAttemptRejected,
  ConnectionDisconnected,
  ConnectionEstablished,
  ConnectionReauthorized,
} from './events/connections.js';
export { ConnectionDataPurged, EraseConnectionData, EraseOrgData } from './events/lifecycle.js';
export * from './events/records.js';
export {
  ConnectionSyncFailing,
  RecordPushed,
  RecordPushFailed,
  RunErrorsRetried,
  SyncCompleted,
  SyncErrorRetried,
  SyncFailed,
  SyncIntervalChanged,
  SyncPaused,
  SyncRequested,
  SyncResumed,
  SyncStarted,
} from './events/sync-runs.js';
export {
  AppCredentialsRejected,
  ConnectionDeactivated,
  ConnectionDegraded,
  ConnectionRecovered,
  ReauthorizationRequired,
  ReconnectSoon,
  TokenRotated,
} from './events/tokens.js';
export { EntityChangeNotified, WebhookParked } from './events/webhooks.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  fitRecordEvent,
  formatSeq,
  MESSAGE_HEADROOM_BYTES,
  parseSeq,
  recordStateOf,
  SEQ_DIGITS,
} from './feed.js';
export {
  connectionId,
  entityId,
  entityName,
  errorCategory,
  errorSummary,
  orgId,
  realmId,
  seq,
  syncToken,
  timestamp,
  UNKNOWN_ORG,
  utcInstant,
} from './fields.js';
export {
  type DlqTopicName,
  dlqTopic,
  type KeyField,
  keyFor,
  type PlatformService,
  platformServices,
  stateKey,
  type TopicName,
  type TopicSpec,
  topicSpec,
  topicSpecs,
  topics,
} from './topics.js';
export { EventSchemaError, type SchemaIssue, validateForPublish, validateReceived } from './validate.js';
