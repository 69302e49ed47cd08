import { signOrgToken } from '@qbo/service-kit/org-auth';

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
  const { secret, ...rest } = o;
  return signOrgToken({ ...ORG_JWT, secret: secret ?? ORG_JWT.secret }, orgId, rest);
}
