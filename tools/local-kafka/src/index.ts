export {
  answers,
  brokerAddress,
  DEFAULT_CONTROLLER_PORT,
  DEFAULT_PORT,
  reset,
  start,
  status,
  stop,
} from './broker.js';
export { repoRoot } from './paths.js';
