export { api, BASIC, type Connection, connect, query, REDIRECT_URI, type Target } from './connect.js';
export { type SimulatorProcess, startSimulatorProcess } from './process.js';
export { type Received, startReceiver } from './receiver.js';
export {
  ENTITY_SAMPLES,
  type EntitySample,
  type SampleEnd,
  type SampleRefs,
  SEEDED_ACCOUNTS,
} from './samples.js';
