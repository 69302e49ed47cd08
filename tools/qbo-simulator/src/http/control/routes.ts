import { Hono } from 'hono';
import { z } from 'zod';
import type { SimulatorControl } from '../../control.js';
import { isQboFault } from '../../domain/fault.js';
import {
  bulkChangesSchema,
  changeSchema,
  clockSchema,
  companySchema,
  consentSchema,
  defined,
  faultSchema,
  limitsSchema,
  policiesSchema,
  seedSchema,
  targetSchema,
} from './schemas.js';

export const CONTROL_PREFIX = '/_sim';

/**
 * The control API: the same operations as the programmatic `control` object, over HTTP, for tests and
 * tools in other processes. Served only when the simulator is started with control enabled.
 */
export function controlRoutes(control: SimulatorControl): Hono {
  const app = new Hono();
  const body = async <S extends z.ZodType>(
    c: { req: { json(): Promise<unknown> } },
    schema: S,
  ): Promise<z.output<S>> => schema.parse(await c.req.json().catch(() => ({})));

  app.onError((err, c) => {
    if (err instanceof z.ZodError) {
      return c.json(
        {
          type: 'about:blank',
          title: 'Invalid control request',
          status: 400,
          code: 'invalid_request',
          detail: z.prettifyError(err),
        },
        400,
      );
    }
    if (isQboFault(err)) return c.json(err.body(), 400);
    throw err;
  });

  app.get('/companies', (c) => c.json(control.companies()));
  app.post('/companies', async (c) =>
    c.json(control.createCompany(defined(await body(c, companySchema))), 201),
  );
  app.post('/seed', async (c) => c.json(control.seed(defined(await body(c, seedSchema)))));
  app.post('/companies/:realmId/changes', async (c) => {
    const request = await body(c, changeSchema);
    return c.json(control.change(c.req.param('realmId'), request));
  });
  app.post('/companies/:realmId/changes/bulk', async (c) => {
    const { at, changes } = await body(c, bulkChangesSchema);
    const instant = at === undefined ? undefined : typeof at === 'number' ? at : Date.parse(at);
    return c.json(control.changes(c.req.param('realmId'), changes, instant));
  });
  app.get('/policies', (c) => c.json(control.policies()));
  app.post('/policies', async (c) => c.json(control.setPolicies(defined(await body(c, policiesSchema)))));
  app.post('/companies/:realmId/revoke', (c) =>
    c.json({ revoked: control.revokeRealm(c.req.param('realmId')) }),
  );
  app.post('/tokens/expire', async (c) => {
    const { realmId } = await body(c, z.object({ realmId: z.string().optional() }));
    return c.json({ expired: control.expireAccessTokens(realmId) });
  });

  app.get('/faults', (c) => c.json(control.faults()));
  app.post('/faults', async (c) => c.json(control.addFault(defined(await body(c, faultSchema))), 201));
  app.delete('/faults', (c) => {
    control.clearFaults();
    return c.body(null, 204);
  });
  app.delete('/faults/:id', (c) => c.body(null, control.removeFault(Number(c.req.param('id'))) ? 204 : 404));

  app.get('/clock', (c) =>
    c.json({ now: control.clock.now(), iso: new Date(control.clock.now()).toISOString() }),
  );
  app.post('/clock', async (c) => {
    const request = await body(c, clockSchema);
    // Freeze first: freezing pins "now", so a set or advance in the same request lands exactly.
    if (request.freeze === true) control.clock.freeze();
    if (request.set !== undefined)
      control.clock.set(typeof request.set === 'number' ? request.set : Date.parse(request.set));
    if (request.advanceMs !== undefined) control.clock.advance(request.advanceMs);
    if (request.freeze === false) control.clock.unfreeze();
    return c.json({ now: control.clock.now(), iso: new Date(control.clock.now()).toISOString() });
  });

  app.get('/counters', (c) => c.json(control.counters()));
  app.delete('/counters', (c) => {
    control.resetCounters();
    return c.body(null, 204);
  });
  app.post('/limits', async (c) => c.json(control.setLimits(defined(await body(c, limitsSchema)))));

  app.get('/webhooks/deliveries', (c) => c.json(control.deliveries()));
  app.post('/webhooks/targets', async (c) => {
    control.addWebhookTarget(defined(await body(c, targetSchema)));
    return c.body(null, 204);
  });
  app.post('/webhooks/flush', async (c) => {
    await control.flushWebhooks();
    return c.body(null, 204);
  });
  app.post('/consent', async (c) => {
    control.nextConsent(defined(await body(c, consentSchema)));
    return c.body(null, 204);
  });
  return app;
}
