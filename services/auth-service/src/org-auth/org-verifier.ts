import { createPublicKey } from 'node:crypto';
import { UNKNOWN_ORG } from '@qbo/events';
import { AppError, hasCode } from '@qbo/service-kit';
import { createRemoteJWKSet, importSPKI, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/** The org a request acts for, once its credential checked out. */
export interface OrgPrincipal {
  orgId: string;
  /** The platform user, when the credential names one (recorded as `connectedBy`). */
  userId?: string;
}

/** How the platform proves the org behind a request; swapped for another scheme without touching routes. */
export interface OrgVerifier {
  /**
   * Resolves with the principal, or undefined for a missing, malformed, expired or foreign credential; rejects
   * with 403 `org_reserved` for a valid credential naming an org id the platform reserves.
   */
  verify(authorization: string | undefined): Promise<OrgPrincipal | undefined>;
}

/**
 * Org ids that name no org: `_unknown` is the bucket of input no org owns yet (webhooks of unknown realms,
 * refused connect attempts). An org acting under it would mix its events into that bucket and could read or
 * claim what lands there, so no credential may carry it, whoever signed it.
 */
const RESERVED_ORG_IDS: ReadonlySet<string> = new Set([UNKNOWN_ORG]);

export const orgReserved = (): AppError =>
  new AppError('org_reserved', 'This org id is reserved by the platform and cannot be used', { status: 403 });

export interface JwtVerifierOptions {
  /** HS256 shared secret. */
  secret?: string;
  /** SPKI PEM public key (RS256, ES256 or EdDSA). */
  publicKeyPem?: string;
  jwksUrl?: string;
  issuer: string;
  audience: string;
  orgClaim: string;
  orgFromSub: boolean;
}

const ORG_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'];

/**
 * Platform-signed JWT bearer tokens. Algorithms are pinned per key type (no `none`, no HS/RS confusion),
 * issuer, audience and expiry are required, and the org id must look like an org id.
 */
export async function createJwtOrgVerifier(o: JwtVerifierOptions): Promise<OrgVerifier> {
  const keys: { key: Uint8Array | JWTVerifyGetKey | CryptoKey; algorithms: string[] }[] = [];
  if (o.secret) keys.push({ key: new TextEncoder().encode(o.secret), algorithms: ['HS256'] });
  if (o.publicKeyPem) {
    const alg = detectAlg(o.publicKeyPem);
    keys.push({ key: await importSPKI(o.publicKeyPem, alg), algorithms: [alg] });
  }
  if (o.jwksUrl) keys.push({ key: createRemoteJWKSet(new URL(o.jwksUrl)), algorithms: ASYMMETRIC });
  if (keys.length === 0) throw new Error('the org verifier needs a secret, a public key or a JWKS URL');

  const orgOf = (payload: JWTPayload): string | undefined => {
    const claim = payload[o.orgClaim];
    const org = typeof claim === 'string' ? claim : o.orgFromSub ? payload.sub : undefined;
    return org && ORG_ID.test(org) ? org : undefined;
  };

  return {
    async verify(authorization) {
      const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(authorization ?? '');
      if (!match?.[1]) return undefined;
      for (const { key, algorithms } of keys) {
        try {
          const options = { issuer: o.issuer, audience: o.audience, algorithms, requiredClaims: ['exp'] };
          const { payload } =
            typeof key === 'function'
              ? await jwtVerify(match[1], key, options)
              : await jwtVerify(match[1], key, options);
          const orgId = orgOf(payload);
          if (!orgId) return undefined;
          if (RESERVED_ORG_IDS.has(orgId)) throw orgReserved();
          return typeof payload.sub === 'string' && payload.sub !== orgId && payload.sub.length <= 128
            ? { orgId, userId: payload.sub }
            : { orgId };
        } catch (err) {
          if (hasCode(err, 'org_reserved')) throw err;
          // Try the next configured key; a credential no key accepts is simply not authenticated.
        }
      }
      return undefined;
    },
  };
}

function detectAlg(pem: string): string {
  // jose needs the algorithm up front; the key's own type decides it.
  const type = createPublicKey(pem).asymmetricKeyType;
  if (type === 'ec') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  throw new Error('AUTH_JWT_PUBLIC_KEY must be an RSA, EC P-256 or Ed25519 public key');
}
