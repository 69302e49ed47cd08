export {
  answers,
  brokerAddress,
  type ClientSecurity,
  DEFAULT_CONTROLLER_PORT,
  DEFAULT_PORT,
  reset,
  start,
  status,
  stop,
} from './broker.js';
export { repoRoot } from './paths.js';
export { makeCertificates, type SecureBroker, type SecureBrokerOptions, startSecure } from './secure.js';
