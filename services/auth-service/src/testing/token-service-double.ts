import type { AddressInfo } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import { serve } from '@hono/node-server';
import { AppError, createHttpApp, createLogger, createReadiness } from '@qbo/service-kit';
import {
  type ConnectionHealth,
  connectionIdParam,
  refreshRequest,
  routes,
  type StoreCredentialsRequest,
  storeCredentialsRequest,
  type TokenApiErrorCode,
  verifyServiceCredential,
} from '@qbo/token-api';
import type { Context } from 'hono';

export type DoubleMode = 'ok' | 'unavailable' | 'unreachable' | 'stores-unavailable';

interface Stored extends StoreCredentialsRequest {
  version: number;
  status: ConnectionHealth;
}

export interface TokenServiceDouble {
  url: string;
  /** Intuit's revoke endpoint, called with the stored refresh token as the real service does. */
  intuitRevokeUrl: string | undefined;
  /** Every store request that passed validation, in order, tokens included (the test scans for them). */
  stores: { connectionId: string; body: StoreCredentialsRequest; changed: boolean }[];
  revokes: string[];
  /** Runs after a store is kept and before it is answered: lets a test act while a callback is mid-flight. */
  afterStore: ((connectionId: string, body: StoreCredentialsRequest) => Promise<void>) | undefined;
  current(connectionId: string): Stored | undefined;
  /**
   * `unavailable` answers 503 problem+json; `unreachable` cuts the connection without an answer;
   * `stores-unavailable` answers 503 to credential stores only.
   */
  setMode(mode: DoubleMode): void;
  close(): Promise<void>;
}

/**
 * The token-service's internal API as the contract defines it, over real HTTP: service-credential auth,
 * requests validated with the contract's schemas, problem+json errors with the contract's codes. Revoke
 * calls Intuit (the simulator) with the stored refresh token, as the real service does.
 */
export async function startTokenServiceDouble({
  credential,
  clientId = 'sim-client-id',
  clientSecret = 'sim-client-secret',
}: {
  credential: string;
  clientId?: string;
  clientSecret?: string;
}): Promise<TokenServiceDouble> {
  const byId = new Map<string, Stored>();
  const stores: TokenServiceDouble['stores'] = [];
  const revokes: string[] = [];
  let mode: DoubleMode = 'ok';
  // The kit's app, so errors are written as the real service writes them.
  const app = createHttpApp({
    log: createLogger({ service: 'token-service-double', level: 'silent' }),
    readiness: createReadiness({ checks: {}, timeoutMs: 1_000 }),
  });
  const fail = (status: 400 | 401 | 404 | 409 | 410 | 500 | 503, code: TokenApiErrorCode) =>
    new AppError(code, code, { status });

  app.use(async (c, next) => {
    if (mode === 'unreachable') {
      (c.env as HttpBindings).incoming.socket.destroy();
      return c.body(null, 500);
    }
    if (mode === 'unavailable' || (mode === 'stores-unavailable' && c.req.method === 'PUT'))
      throw fail(503, 'internal_error');
    if (!verifyServiceCredential(c.req.header('authorization'), [credential]))
      throw fail(401, 'unauthenticated');
    await next();
    return undefined;
  });
  const idOf = (c: Context) => connectionIdParam.safeParse(c.req.param('connectionId'));

  app.put(routes.credentials, async (c) => {
    const id = idOf(c);
    const body = storeCredentialsRequest.safeParse(await c.req.json().catch(() => undefined));
    if (!id.success || !body.success) throw fail(400, 'invalid_request');
    const existing = byId.get(id.data);
    if (existing && (existing.orgId !== body.data.orgId || existing.realmId !== body.data.realmId))
      throw fail(409, 'connection_conflict');
    const changed =
      !existing || existing.refreshToken !== body.data.refreshToken || existing.status !== 'active';
    const version = changed ? (existing?.version ?? 0) + 1 : (existing?.version ?? 1);
    if (changed) byId.set(id.data, { ...body.data, version, status: 'active' });
    stores.push({ connectionId: id.data, body: body.data, changed });
    await double.afterStore?.(id.data, body.data);
    return c.json({ connectionId: id.data, credentialVersion: version, changed });
  });

  app.get(routes.status, (c) => {
    const id = idOf(c);
    if (!id.success) throw fail(400, 'invalid_request');
    const s = byId.get(id.data);
    if (!s) throw fail(404, 'connection_not_found');
    return c.json({
      connectionId: id.data,
      orgId: s.orgId,
      realmId: s.realmId,
      status: s.status,
      credentialVersion: s.version,
      accessTokenExpiresAt: s.accessTokenExpiresAt,
      refreshTokenExpiresAt: s.refreshTokenExpiresAt,
      lastRefreshedAt: null,
      nextRefreshAt: null,
      degradedSince: null,
      deactivationReason: null,
    });
  });

  const accessToken = (c: Context) => {
    const id = idOf(c);
    if (!id.success) throw fail(400, 'invalid_request');
    const s = byId.get(id.data);
    if (!s) throw fail(404, 'connection_not_found');
    if (s.status === 'disconnected') throw fail(410, 'connection_disconnected');
    if (s.status === 'deactivated') throw fail(409, 'reauthorization_required');
    return c.json({
      connectionId: id.data,
      realmId: s.realmId,
      accessToken: s.accessToken,
      accessTokenExpiresAt: s.accessTokenExpiresAt,
      credentialVersion: s.version,
    });
  };
  app.get(routes.accessToken, accessToken);
  app.post(routes.refresh, async (c) => {
    if (!refreshRequest.safeParse(await c.req.json().catch(() => undefined)).success)
      throw fail(400, 'invalid_request');
    return accessToken(c);
  });

  app.post(routes.revoke, async (c) => {
    const id = idOf(c);
    if (!id.success) throw fail(400, 'invalid_request');
    const s = byId.get(id.data);
    if (!s) throw fail(404, 'connection_not_found');
    revokes.push(id.data);
    let revokedAtIntuit = false;
    const intuitRevokeUrl = double.intuitRevokeUrl;
    if (intuitRevokeUrl && s.status !== 'disconnected') {
      const res = await fetch(intuitRevokeUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify({ token: s.refreshToken }),
      }).catch(() => undefined);
      revokedAtIntuit = res?.ok ?? false;
    }
    s.status = 'disconnected';
    return c.json({ connectionId: id.data, revokedAtIntuit });
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const double: TokenServiceDouble = {
    url: `http://127.0.0.1:${port}`,
    intuitRevokeUrl: undefined,
    stores,
    revokes,
    afterStore: undefined,
    current: (id) => byId.get(id),
    setMode: (m) => {
      mode = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return double;
}
