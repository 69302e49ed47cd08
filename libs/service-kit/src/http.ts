import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { trace } from '@opentelemetry/api';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { AppError, isAppError, problemHeaders, toProblem } from './errors.js';
import type { Readiness } from './readiness.js';

export interface HttpAppOptions {
  log: Logger;
  readiness: Readiness;
}

/**
 * A Hono app with the probes every service answers and the one error edge: every problem+json response is
 * written here, from a thrown error (an AppError's code, status, `Retry-After` and `WWW-Authenticate`; an
 * unexpected one as a logged 500 without a stack trace or message).
 */
export function createHttpApp({ log, readiness }: HttpAppOptions): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    // Name the server span by route template, not raw path, so traces group and ids stay out of span names.
    const span = trace.getActiveSpan();
    if (span) {
      span.updateName(`${c.req.method} ${c.req.routePath}`);
      span.setAttribute('http.route', c.req.routePath);
    }
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const report = await readiness.report();
    return c.json(report, report.status === 'ok' ? 200 : 503);
  });

  app.notFound((c) => {
    const err = new AppError('not_found', 'Not found', { status: 404 });
    return c.json(toProblem(err), 404, problemHeaders(err));
  });
  app.onError((err, c) => {
    const problem = toProblem(err);
    if (!isAppError(err) || err.status === 500) log.error({ err, path: c.req.routePath }, 'request failed');
    return c.json(problem, problem.status as 500, problemHeaders(err));
  });
  return app;
}

export interface RunningServer {
  port: number;
  /** Stops accepting, lets in-flight requests finish, and cuts remaining connections at the deadline. */
  close(deadlineMs: number): Promise<void>;
}

/** How long a client may take to send a request; Node's defaults (60 s, 300 s) when unset. */
export interface RequestTimeouts {
  /** From the connection being ready (or the previous response) to the end of the headers. */
  headersTimeoutMs?: number;
  /** From the same start to the end of the whole request, body included; at least `headersTimeoutMs`. */
  requestTimeoutMs?: number;
}

/**
 * Node enforces both timeouts on a sweep (every 30 s by default); with timeouts set, it sweeps every second or
 * more often, so a slow client is cut off close to its limit (408, connection closed).
 */
function serverOptions({ headersTimeoutMs, requestTimeoutMs }: RequestTimeouts) {
  const limits = [headersTimeoutMs, requestTimeoutMs].filter((v): v is number => v !== undefined);
  if (limits.length === 0) return undefined;
  return {
    ...(headersTimeoutMs !== undefined ? { headersTimeout: headersTimeoutMs } : {}),
    ...(requestTimeoutMs !== undefined ? { requestTimeout: requestTimeoutMs } : {}),
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(Math.min(...limits) / 4))),
  };
}

export function startHttpServer(
  app: Hono,
  { host, port, ...timeouts }: { host: string; port: number } & RequestTimeouts,
): Promise<RunningServer> {
  const options = serverOptions(timeouts);
  return new Promise((resolve, reject) => {
    const listen = { fetch: app.fetch, hostname: host, port, ...(options ? { serverOptions: options } : {}) };
    const server = serve(listen, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: (deadlineMs) =>
          new Promise<void>((done, fail) => {
            const timer = setTimeout(() => {
              if ('closeAllConnections' in server) server.closeAllConnections();
            }, deadlineMs);
            timer.unref();
            server.close((err) => {
              clearTimeout(timer);
              if (err) fail(err);
              else done();
            });
          }),
      });
    });
    server.once('error', reject);
  });
}
