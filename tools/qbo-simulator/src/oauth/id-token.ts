import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';

/** Intuit's issuer string; intuit-oauth's validateIdToken hard-codes it (qbo-api-facts §9.1). */
export const ISSUER = 'https://oauth.platform.intuit.com/op/v1';

export interface IdTokenSigner {
  sign(claims: Record<string, unknown>): string;
  jwks(): { keys: Record<string, unknown>[] };
}

/**
 * RS256 ID tokens with a `kid`, and the JWKS that verifies them. The key pair is made on first use (it
 * costs tens of milliseconds) and lives as long as the simulator.
 */
export function createIdTokenSigner(): IdTokenSigner {
  let keys: { privateKey: KeyObject; jwk: Record<string, unknown>; kid: string } | undefined;
  const ensure = () => {
    if (!keys) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 }) as {
        privateKey: KeyObject;
        publicKey: KeyObject;
      };
      const kid = randomBytes(8).toString('hex');
      keys = {
        privateKey: pair.privateKey,
        kid,
        jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' },
      };
    }
    return keys;
  };
  return {
    sign(claims) {
      const { privateKey, kid } = ensure();
      const header = Buffer.from(JSON.stringify({ kid, alg: 'RS256' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(privateKey, 'base64url');
      return `${header}.${payload}.${signature}`;
    },
    jwks: () => ({ keys: [ensure().jwk] }),
  };
}
