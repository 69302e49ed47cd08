export {
  ConfigError,
  env,
  kafkaSecurityEnvShape,
  parseConfig,
  type ServiceConfig,
  serviceEnvSchema,
  serviceEnvShape,
} from './config.js';
export { type DatabaseOptions, databaseCheck, Migration, type MikroORM, openDatabase } from './database.js';
export {
  AppError,
  type AppErrorOptions,
  errorCode,
  hasCode,
  isAppError,
  type Problem,
  problemHeaders,
  toProblem,
} from './errors.js';
export { createHttpApp, type RequestTimeouts, type RunningServer, startHttpServer } from './http.js';
export { createKafka, type KafkaOptions, kafkaCheck } from './kafka.js';
export {
  checkBrokerCertificate,
  type KafkaSecurity,
  type KafkaSecurityConfig,
  KafkaTlsError,
  kafkaSecurity,
} from './kafka-security.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { type PeriodicJob, runPeriodically } from './periodic.js';
export {
  type Check,
  createReadiness,
  type Readiness,
  type ReadinessReport,
  withSignal,
} from './readiness.js';
export { isSecretKey, REDACTED, redactDeep, scrubString } from './redact.js';
export { Secret } from './secret.js';
export { type RunningService, runService, type ServiceDefinition, type ServiceDeps } from './service.js';
export { createShutdown, phase, type Shutdown, type ShutdownStep } from './shutdown.js';
export { execute, query, type SqlContext } from './sql.js';
export type { Telemetry } from './telemetry.js';
