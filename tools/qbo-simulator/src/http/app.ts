import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { SimulatorControl } from '../control.js';
import type { Core } from '../core.js';
import { faults, isQboFault } from '../domain/fault.js';
import { newIntuitTid } from '../random.js';
import { apiGuard } from './api-guard.js';
import { CONTROL_PREFIX, controlRoutes } from './control/routes.js';
import type { ApiEnv } from './env.js';
import { authorizeRoutes } from './oauth/authorize.js';
import { discoveryRoutes } from './oauth/discovery.js';
import { revokeRoute } from './oauth/revoke.js';
import { tokenRoute } from './oauth/token.js';
import { userInfoRoute } from './oauth/userinfo.js';
import { PAYLOAD_TOO_LARGE_HTML, sendFault } from './respond.js';
import { batchRoute } from './routes/batch.js';
import { cdcRoute } from './routes/cdc.js';
import { companyInfoRoute } from './routes/company-info.js';
import { unknownResourceRoute } from './routes/entity-path.js';
import { queryRoutes } from './routes/query.js';
import { readEntityRoutes } from './routes/read-entity.js';
import { writeEntityRoute } from './routes/write-entity.js';

export interface AppOptions {
  core: Core;
  control: SimulatorControl | undefined;
  /** Aborted on close, so requests held by latency or timeout faults end with the server. */
  signal: AbortSignal;
}

/** Every surface on one host: OAuth at Intuit's paths, the Accounting API under /v3, control under /_sim. */
export function createApp({ core, control, signal }: AppOptions): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  // Every OAuth and Accounting API answer carries an intuit_tid (qbo-api-facts §1.8).
  app.use(async (c, next) => {
    await next();
    c.res.headers.set('intuit_tid', newIntuitTid());
  });
  app.use(
    '*',
    bodyLimit({ maxSize: core.maxBodyBytes, onError: (c) => c.html(PAYLOAD_TOO_LARGE_HTML, 413) }),
  );

  if (control) app.route(CONTROL_PREFIX, controlRoutes(control));

  const oauth = app as unknown as Hono;
  discoveryRoutes(oauth, core);
  authorizeRoutes(oauth, core);
  tokenRoute(oauth, core, signal);
  revokeRoute(oauth, core, signal);
  userInfoRoute(oauth, core);

  app.use('/v3/company/:realmId/*', apiGuard(core, signal));
  app.use('/v3/company/:realmId/*', async (c, next) => {
    await next();
    c.res.headers.set('QBO-Version', '1802.1292');
    c.res.headers.set('Cache-Control', 'max-age=0, no-cache, no-store, must-revalidate, private');
  });
  queryRoutes(app, core);
  cdcRoute(app, core);
  batchRoute(app, core);
  companyInfoRoute(app, core);
  readEntityRoutes(app, core);
  writeEntityRoute(app, core);
  unknownResourceRoute(app);

  app.notFound((c) => c.text('Not Found', 404));
  app.onError((err, c) => {
    const now = core.clock.now();
    if (isQboFault(err)) return sendFault(c, err, now);
    core.log?.error({ err, path: c.req.routePath }, 'request failed');
    return sendFault(c, faults.systemError(), now);
  });
  return app;
}
