import { SignJWT } from 'jose';

/** The org credential settings the tests' sync-service replicas take, as auth-service's tests do. */
export const ORG_JWT = {
  secret: 'sync-api-signing-secret-for-tests-0123456789',
  issuer: 'https://platform.test',
  audience: 'qbo-platform',
} as const;

export const ORG_JWT_ENV = {
  AUTH_JWT_SECRET: ORG_JWT.secret,
  AUTH_JWT_ISSUER: ORG_JWT.issuer,
  AUTH_JWT_AUDIENCE: ORG_JWT.audience,
} as const;

/** A platform-signed org credential; `operator` adds the operator role, `secret` signs with another key. */
export function orgToken(orgId: string, o: { operator?: boolean; secret?: string; expiresIn?: string } = {}) {
  return new SignJWT({ org_id: orgId, ...(o.operator ? { role: 'operator' } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ORG_JWT.issuer)
    .setAudience(ORG_JWT.audience)
    .setSubject(`user-of-${orgId}`)
    .setExpirationTime(o.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(o.secret ?? ORG_JWT.secret));
}
