import { createPublicKey } from 'node:crypto';
import { UNKNOWN_ORG } from '@qbo/events';
import {
  createRemoteJWKSet,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { z } from 'zod';
import { env } from './config.js';
import { AppError, hasCode } from './errors.js';
import { Secret } from './secret.js';

/**
 * The platform's org credential, checked the same way by every service that takes one (auth-service's connect
 * flow and connections, sync-service's API): `@qbo/service-kit/org-auth`.
 */

/** The org a request acts for, once its credential checked out. */
export interface OrgPrincipal {
  orgId: string;
  /** The platform user, when the credential names one (recorded as `connectedBy`). */
  userId?: string;
  /**
   * The credential carries `role: "operator"`: platform staff, who may see every org where a service allows it
   * (sync-service's API). A service that does not read it treats the operator as the org the credential names.
   */
  operator?: true;
}

/** The claim and value that make a credential an operator's. */
export const OPERATOR_ROLE = { claim: 'role', value: 'operator' } as const;

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
          const principal: OrgPrincipal =
            typeof payload.sub === 'string' && payload.sub !== orgId && payload.sub.length <= 128
              ? { orgId, userId: payload.sub }
              : { orgId };
          if (payload[OPERATOR_ROLE.claim] === OPERATOR_ROLE.value) principal.operator = true;
          return principal;
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

/**
 * The verifier's environment, the same names in every service that takes org credentials, so a deployment
 * hands each the same settings. At least one key source is required (see `requireOrgKey`).
 */
export const orgJwtEnvShape = {
  /** HS256 shared secret. */
  AUTH_JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .transform((v) => new Secret(v))
    .optional(),
  /** An SPKI PEM public key (RS256/ES256/EdDSA). */
  AUTH_JWT_PUBLIC_KEY: z.string().min(1).optional(),
  AUTH_JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_JWT_ISSUER: z.string().min(1),
  AUTH_JWT_AUDIENCE: z.string().min(1),
  AUTH_JWT_ORG_CLAIM: z.string().min(1).default('org_id'),
  /** Take the org from `sub` when the org claim is absent: only for platforms whose subjects are orgs. */
  AUTH_JWT_ORG_FROM_SUB: env.boolean(false),
};

type OrgJwtEnv = z.output<z.ZodObject<typeof orgJwtEnvShape>>;

/** For a config schema's `superRefine`: one of the three key sources must be set. */
export function requireOrgKey(c: OrgJwtEnv, ctx: z.RefinementCtx): void {
  if (!c.AUTH_JWT_SECRET && !c.AUTH_JWT_PUBLIC_KEY && !c.AUTH_JWT_JWKS_URL) {
    ctx.addIssue({
      code: 'custom',
      path: ['AUTH_JWT_SECRET'],
      message: 'one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWT_JWKS_URL is required',
    });
  }
}

/** The verifier a service's parsed configuration describes. */
export function createOrgVerifierFromConfig(c: OrgJwtEnv): Promise<OrgVerifier> {
  return createJwtOrgVerifier({
    ...(c.AUTH_JWT_SECRET ? { secret: c.AUTH_JWT_SECRET.reveal() } : {}),
    ...(c.AUTH_JWT_PUBLIC_KEY ? { publicKeyPem: c.AUTH_JWT_PUBLIC_KEY } : {}),
    ...(c.AUTH_JWT_JWKS_URL ? { jwksUrl: c.AUTH_JWT_JWKS_URL } : {}),
    issuer: c.AUTH_JWT_ISSUER,
    audience: c.AUTH_JWT_AUDIENCE,
    orgClaim: c.AUTH_JWT_ORG_CLAIM,
    orgFromSub: c.AUTH_JWT_ORG_FROM_SUB,
  });
}

/** The org credential is missing or not valid: 401 asking for a bearer token. */
export const unauthenticated = (): AppError =>
  new AppError('unauthenticated', 'A valid org credential is required', {
    status: 401,
    authenticate: 'Bearer',
  });

export interface OrgTokenSettings {
  /** The shared HS256 secret (`AUTH_JWT_SECRET`). */
  secret: string;
  issuer: string;
  audience: string;
}

/**
 * A platform credential for an org in the shape this module's verifier accepts (HS256, `org_id`, optionally the
 * operator role): what the platform's own front end issues, and what tests and local tools sign with their
 * configured secret. Five minutes unless `expiresIn` says otherwise.
 */
export function signOrgToken(
  settings: OrgTokenSettings,
  orgId: string,
  o: { operator?: boolean; expiresIn?: string; claims?: Record<string, unknown> } = {},
): Promise<string> {
  return new SignJWT({
    org_id: orgId,
    ...(o.operator ? { [OPERATOR_ROLE.claim]: OPERATOR_ROLE.value } : {}),
    ...o.claims,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(`user-of-${orgId}`)
    .setIssuedAt()
    .setExpirationTime(o.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(settings.secret));
}
