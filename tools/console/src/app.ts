import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { Hono } from 'hono';

export interface ConsoleConfig {
  /** sync-service's API (runs, errors, sync controls). */
  syncUrl: string;
  /** auth-service's API (connect flow, connections, disconnect). */
  authUrl: string;
  /** Jaeger's UI, for a link per API call; none when empty. */
  jaegerUrl: string;
  /** Where the page, its styles (public/) and its compiled script (dist/web/) are, tried in order. */
  staticDirs: readonly string[];
  /** How the forwarder reaches the services (the global fetch by default). */
  fetch?: typeof fetch;
}

/**
 * Scripts and styles only from this origin, never inline; no framing; the browser talks to this origin only.
 * A token can then reach no other place than the API calls the console's own script makes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The API paths the console forwards, per service; anything else is a 404 here. */
const ID = '[A-Za-z0-9-]+';
const SYNC_PATHS = new RegExp(
  `^/(connections(/${ID}(/(pause|resume|sync))?)?|runs(/${ID}(/(api-calls|retry-errors))?)?|errors(/${ID}/retry)?)$`,
);
const AUTH_PATHS = /^\/(connections(\/[0-9a-fA-F-]{36})?|connect\/quickbooks)$/;

/** Request headers worth passing on: the caller's credential and what the body is. */
const FORWARDED = ['authorization', 'content-type', 'accept'];

/**
 * The console: its page and assets, and a forwarder of the browser's API calls to sync-service and
 * auth-service with the caller's own bearer token, so the services alone decide what the caller may see and do.
 */
export function consoleApp(config: ConsoleConfig): Hono {
  const app = new Hono();
  const upstream = config.fetch ?? fetch;

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
    c.res.headers.set('x-content-type-options', 'nosniff');
    c.res.headers.set('referrer-policy', 'no-referrer');
    c.res.headers.set('x-frame-options', 'DENY');
    c.res.headers.set('cross-origin-opener-policy', 'same-origin');
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => c.json({ status: 'ok' }));
  app.get('/config.json', (c) => c.json({ jaegerUrl: config.jaegerUrl || null }));

  const forward = (base: string, allowed: RegExp, prefix: string) => async (c: import('hono').Context) => {
    const url = new URL(c.req.url);
    const path = url.pathname.slice(prefix.length);
    if (!allowed.test(path)) return c.json({ code: 'not_found', title: 'No such API path' }, 404);
    const headers = new Headers();
    for (const name of FORWARDED) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await c.req.arrayBuffer();
    let answer: Response;
    try {
      answer = await upstream(`${base}${path}${url.search}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      return c.json({ code: 'upstream_unavailable', title: 'The service did not answer' }, 502);
    }
    const out = new Headers({ 'cache-control': 'no-store' });
    const type = answer.headers.get('content-type');
    if (type) out.set('content-type', type);
    // The connect flow's browser-binding cookie (HttpOnly, no secret the page can read): it must reach the
    // browser for auth-service's callback to accept the consent.
    for (const cookie of answer.headers.getSetCookie()) out.append('set-cookie', cookie);
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: out });
  };

  app.all('/api/sync/*', forward(config.syncUrl, SYNC_PATHS, '/api/sync'));
  app.all('/api/auth/*', forward(config.authUrl, AUTH_PATHS, '/api/auth'));
  app.all('/api/*', (c) => c.json({ code: 'not_found', title: 'No such API path' }, 404));

  const file = async (relative: string) => {
    for (const dir of config.staticDirs) {
      const path = normalize(join(dir, relative));
      if (!path.startsWith(`${normalize(dir)}/`) || relative.endsWith('.map')) continue;
      try {
        return { body: await readFile(path), type: TYPES[extname(path)] ?? 'application/octet-stream' };
      } catch {}
    }
    return undefined;
  };

  app.get('/assets/*', async (c) => {
    const found = await file(c.req.path.slice('/assets/'.length));
    if (!found) return c.json({ code: 'not_found', title: 'No such asset' }, 404);
    return c.body(found.body, 200, { 'content-type': found.type, 'cache-control': 'no-cache' });
  });

  // The page itself: one document, routed in the browser by its fragment.
  app.get('/', async (c) => {
    const page = await file('index.html');
    if (!page) return c.text('console assets missing: run npm run build', 500);
    return c.body(page.body, 200, { 'content-type': page.type, 'cache-control': 'no-store' });
  });

  app.notFound((c) => c.json({ code: 'not_found', title: 'Not found' }, 404));
  return app;
}
