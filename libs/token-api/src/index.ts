export {
  createTokenServiceClient,
  type TokenServiceClient,
  type TokenServiceClientOptions,
  TokenServiceError,
} from './client.js';
export * from './contract.js';
export { verifyServiceCredential } from './service-credential.js';
