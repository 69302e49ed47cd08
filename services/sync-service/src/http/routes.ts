import type { Logger, MikroORM } from '@qbo/service-kit';
import type { OrgVerifier } from '@qbo/service-kit/org-auth';
import type { Hono } from 'hono';
import { connectionRoutes } from './connections.js';
import { errorRoutes } from './errors.js';
import { pushRoutes } from './pushes.js';
import { runRoutes } from './runs.js';

export interface SyncApiDeps {
  orm: MikroORM;
  verifier: OrgVerifier;
  log: Logger;
  defaultIntervalMs: number;
  minIntervalMs: number;
  maxIntervalMs: number;
}

/**
 * The sync API: runs and their calls to Intuit, each company's sync controls, the error rows and their
 * retries, and the write-back commands and their outcomes, behind the org credential.
 */
export function syncApiRoutes(app: Hono, d: SyncApiDeps): void {
  runRoutes(app, d);
  connectionRoutes(app, d);
  errorRoutes(app, d);
  pushRoutes(app, d);
}
