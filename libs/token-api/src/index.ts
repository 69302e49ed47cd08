export {
  MIN_CREDENTIAL_LENGTH,
  mayCall,
  operationsOf,
  parseTokenApiCallers,
  type TokenApiCaller,
  TokenApiCallersError,
  type TokenApiOperation,
  tokenApiCallers,
  tokenApiOperations,
} from './callers.js';
export {
  createTokenServiceClient,
  type TokenServiceClient,
  type TokenServiceClientOptions,
  TokenServiceError,
} from './client.js';
export * from './contract.js';
export { identifyCaller, verifyServiceCredential } from './service-credential.js';
