import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { entityDef } from '../../domain/entities/registry.js';
import type { EntityDef } from '../../domain/entities/types.js';
import { faults } from '../../domain/fault.js';
import type { ApiEnv } from '../env.js';

/**
 * The entity a URL segment names. Intuit's paths are lower case (`/journalentry`, qbo-api-facts §2.1) and
 * older docs call URIs case-sensitive, so other casings are unknown resources unless the `entityUrlCase`
 * policy is `any`.
 */
export function entityForPath(core: Core, segment: string | undefined): EntityDef | undefined {
  if (segment === undefined) return undefined;
  if (core.policies.entityUrlCase === 'lowercase' && segment !== segment.toLowerCase()) return undefined;
  return entityDef(segment);
}

/**
 * Any other path under a company: Intuit's "Could not find resource" answer, a 400 Unsupported Operation
 * fault in the usual shape, rather than a bare 404.
 */
export function unknownResourceRoute(app: Hono<ApiEnv>): void {
  app.all('/v3/company/:realmId/*', (c) => {
    throw faults.unsupportedOperation(
      `Could not find resource for relative : ${c.req.path} of full path: ${c.req.url}`,
    );
  });
}
