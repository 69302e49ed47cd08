export {
  AddQboApiLogCallId,
  CreateQboApiLog,
  qboApiLogCallIdMigration,
  qboApiLogMigration,
  qboApiLogMigrations,
} from './api-log/migration.js';
export type { ApiLogRow, ApiLogSink, ApiLogStore } from './api-log/row.js';
export { createSqlApiLogStore, type Execute, mikroOrmApiLogStore } from './api-log/sql-store.js';
export { type ApiLogWriter, type ApiLogWriterOptions, createApiLogWriter } from './api-log/writer.js';
export {
  type Budget,
  BudgetExhaustedError,
  type BudgetOptions,
  createBudget,
  type Permit,
} from './budget/budget.js';
export {
  type BudgetLimitOptions,
  type BudgetLimits,
  budgetLimits,
  INTUIT_LIMITS,
  INTUIT_REQUEST_TIMEOUT_MS,
} from './budget/limits.js';
export { createMemoryBudgetStore } from './budget/memory-store.js';
export { createRedisBudgetStore, type RedisBudgetStoreOptions } from './budget/redis-store.js';
export type { Admission, BudgetReason, BudgetStore, CallKind } from './budget/store.js';
export { categoriseItemFault, transportFailure } from './classify.js';
export {
  type BatchItem,
  createQboClient,
  INTUIT_API_BASE_URLS,
  MAX_BATCH_ITEMS,
  MAX_BATCH_OBJECTS,
  MINOR_VERSION,
  type QboClient,
  type QboClientOptions,
} from './client/client.js';
export type { CallContext, QboObject } from './client/context.js';
export type { BatchItemResult, CdcResult, QueryPage } from './client/responses.js';
export { DEFAULT_RETRY, type RetryOptions } from './client/retry-policy.js';
export {
  type Category,
  categories,
  categorise,
  type Fault,
  isQboError,
  parseFault,
  QboError,
  type QboErrorDetails,
  safeMessage,
} from './errors.js';
export { createPageSizer, type PageSizer, type PageSizerOptions } from './page-size.js';
export {
  buildQuery,
  MAX_RESULTS,
  type Operator,
  QueryBuildError,
  type QueryParts,
  quote,
  type Scalar,
  type Value,
} from './query.js';
export type { TokenProvider } from './tokens.js';
