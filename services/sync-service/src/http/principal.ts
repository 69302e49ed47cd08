import { type OrgVerifier, unauthenticated } from '@qbo/service-kit/org-auth';
import type { Context } from 'hono';
import type { OrgScope } from '../store/run-reads.js';

/**
 * The rows a request may see: its org's, or every org's for an operator. A missing or invalid credential is a
 * 401 before anything is read; the reserved org is refused (403) by the verifier.
 */
export async function scopeOf(c: Context, verifier: OrgVerifier): Promise<OrgScope> {
  const principal = await verifier.verify(c.req.header('authorization'));
  if (!principal) throw unauthenticated();
  return principal.operator ? null : principal.orgId;
}
