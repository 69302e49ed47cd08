export { type CpuUse, startCpuCount } from '@qbo/testkit';
export { APICURIO_VERSION, type ApicurioOptions, type RunningApicurio, startApicurio } from './apicurio.js';
export { createTestBus, createTestProducer, type TestBus, testLogger } from './bus.js';
export { type RawMessage, readToEnd, readTopic } from './read-topic.js';
export { type RegistryDouble, startRegistryDouble } from './registry-double.js';
