export { ATTACK_PREFIX, attack } from './attack.js';
export { createTestDatabase, serverUrl, type TestDatabase } from './database.js';
export { testBrokers, uniqueName } from './kafka.js';
export { type ExportedSpan, type OtlpSink, spanFindings, startOtlpSink } from './otlp-sink.js';
export { type LogLine, type ServiceProcess, type StartOptions, startProcess } from './process.js';
export { repoRoot } from './repo-root.js';
export { describeServiceLifecycle, type LifecycleSuiteOptions } from './service-suite.js';
export { readToEnd, type TopicMessage } from './topic.js';
export { waitFor } from './wait.js';
