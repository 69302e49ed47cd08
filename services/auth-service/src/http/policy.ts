import { AppError } from '@qbo/service-kit';
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';

/** The initiate body is `{returnTo}`; no route here needs more, so nothing reads an unbounded body. */
export const BODY_LIMIT_BYTES = 4 * 1024;

/**
 * What every public route gets: strict security headers and a small body limit; and on the routes a
 * browser app calls with the org credential, CORS for the exact origins allowed (the callback is a
 * top-level navigation, never a cross-origin call).
 */
export function applyHttpPolicy(app: Hono, { corsOrigins }: { corsOrigins: readonly string[] }): void {
  const allowedOrigins = new Set(corsOrigins);
  const corsMiddleware = cors({
    origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
    credentials: true,
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  });
  const headers = secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    referrerPolicy: 'no-referrer',
    xContentTypeOptions: 'nosniff',
    strictTransportSecurity: 'max-age=31536000; includeSubDomains',
    xFrameOptions: 'DENY',
  });
  const limitBody = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: () => {
      throw new AppError('payload_too_large', `The request body exceeds ${BODY_LIMIT_BYTES} bytes`, {
        status: 413,
      });
    },
  });
  for (const path of ['/connect/*', '/connections', '/connections/*', '/oauth/*']) {
    app.use(path, headers);
    app.use(path, limitBody);
  }
  for (const path of ['/connect/*', '/connections', '/connections/*']) app.use(path, corsMiddleware);
}
