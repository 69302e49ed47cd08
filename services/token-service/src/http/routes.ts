import { AppError } from '@qbo/service-kit';
import {
  connectionIdParam,
  refreshRequest,
  routes,
  storeCredentialsRequest,
  verifyServiceCredential,
} from '@qbo/token-api';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import type { TokenManager } from '../refresh/token-manager.js';

const invalid = (what: string) => new AppError('invalid_request', what, { status: 400 });

/** Longest validity a caller may ask for: below an access token's one-hour life, or no refresh satisfies it. */
const MAX_MIN_VALIDITY_SECONDS = 3000;

/** A stored grant is a few KiB at most; anything far larger is a mistake or an attempt to exhaust memory. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The internal API of @qbo/token-api, behind the service credential. Errors are thrown with the contract's
 * codes, for the kit's edge to write as problem+json (a 503 with `Retry-After`). No error says anything about a
 * token.
 */
export function tokenRoutes(
  app: Hono,
  {
    tokens,
    credentials,
    defaultMinValidityMs,
  }: {
    tokens: TokenManager;
    credentials: () => readonly string[];
    defaultMinValidityMs: number;
  },
): void {
  app.use('/internal/*', async (c, next) => {
    if (!verifyServiceCredential(c.req.header('authorization'), credentials())) {
      throw new AppError('unauthenticated', 'A valid service credential is required', { status: 401 });
    }
    return next();
  });
  // Enforced while the body streams in (and at once from Content-Length), so an oversized body is never buffered.
  app.use(
    '/internal/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError('payload_too_large', `The body must be at most ${MAX_BODY_BYTES} bytes`, {
          status: 413,
        });
      },
    }),
  );

  const handle =
    (fn: (c: Context, connectionId: string) => Promise<unknown>) =>
    async (c: Context): Promise<Response> => {
      const id = connectionIdParam.safeParse(c.req.param('connectionId'));
      if (!id.success) throw invalid('The connection id is malformed');
      return c.json(await fn(c, id.data), 200);
    };

  const body = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> => {
    const json: unknown = await c.req.json().catch(() => {
      throw invalid('The body must be JSON');
    });
    const parsed = schema.safeParse(json);
    // Field paths only: the values may be tokens.
    if (!parsed.success)
      throw invalid(
        `Invalid body: ${parsed.error.issues.map((i) => i.path.join('.') || '(body)').join(', ')}`,
      );
    return parsed.data;
  };

  app.put(
    routes.credentials,
    handle(async (c, id) => tokens.store(id, await body(c, storeCredentialsRequest))),
  );
  app.get(
    routes.accessToken,
    handle(async (c, id) => {
      const raw = c.req.query('minValiditySeconds');
      let minMs = defaultMinValidityMs;
      if (raw !== undefined) {
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n > MAX_MIN_VALIDITY_SECONDS)
          throw invalid(`minValiditySeconds must be an integer from 0 to ${MAX_MIN_VALIDITY_SECONDS}`);
        minMs = n * 1000;
      }
      return tokens.getAccessToken(id, minMs);
    }),
  );
  app.post(
    routes.refresh,
    handle(async (c, id) =>
      tokens.refreshAfterRejection(id, (await body(c, refreshRequest)).rejectedAccessToken),
    ),
  );
  app.get(
    routes.status,
    handle(async (_c, id) => tokens.status(id)),
  );
  app.post(
    routes.revoke,
    handle(async (_c, id) => tokens.revoke(id)),
  );
}
