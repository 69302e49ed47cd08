import { AppError, type Logger } from '@qbo/service-kit';
import {
  connectionIdParam,
  identifyCaller,
  mayCall,
  refreshRequest,
  storeCredentialsRequest,
  type TokenApiCaller,
  type TokenApiOperation,
  tokenApiOperations,
} from '@qbo/token-api';
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import type { TokenManager } from '../refresh/token-manager.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who the request's credential names, set by the authentication middleware. */
    tokenApiCaller: TokenApiCaller;
  }
}

const invalid = (what: string) => new AppError('invalid_request', what, { status: 400 });

/** Longest validity a caller may ask for: below an access token's one-hour life, or no refresh satisfies it. */
const MAX_MIN_VALIDITY_SECONDS = 3000;

/** A stored grant is a few KiB at most; anything far larger is a mistake or an attempt to exhaust memory. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The internal API of @qbo/token-api: each request's credential names its caller (401 when it names none),
 * and each route runs only for the callers the contract's `tokenApiOperations` gives it (403
 * `caller_not_permitted` otherwise, logged with caller and operation). Errors are thrown with the contract's
 * codes, for the kit's edge to write as problem+json (a 503 with `Retry-After`). No error says anything about a
 * token.
 */
export function tokenRoutes(
  app: Hono,
  {
    tokens,
    callers,
    defaultMinValidityMs,
    log,
  }: {
    tokens: TokenManager;
    callers: () => ReadonlyMap<TokenApiCaller, readonly string[]>;
    defaultMinValidityMs: number;
    log: Logger;
  },
): void {
  app.use('/internal/*', async (c, next) => {
    const caller = identifyCaller(c.req.header('authorization'), callers());
    if (!caller) {
      throw new AppError('unauthenticated', 'A valid service credential is required', { status: 401 });
    }
    c.set('tokenApiCaller', caller);
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
    (operation: TokenApiOperation, fn: (c: Context, connectionId: string) => Promise<unknown>) =>
    async (c: Context): Promise<Response> => {
      const caller = c.get('tokenApiCaller');
      if (!caller || !mayCall(caller, operation)) {
        log.warn({ caller: caller ?? null, operation }, 'token API call refused: caller not permitted');
        throw new AppError('caller_not_permitted', `This credential may not call ${operation}`, {
          status: 403,
        });
      }
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

  const route = (
    operation: TokenApiOperation,
    fn: (c: Context, connectionId: string) => Promise<unknown>,
  ) => {
    const { method, route: path } = tokenApiOperations[operation];
    app.on(method, path, handle(operation, fn));
  };

  route('store', async (c, id) => tokens.store(id, await body(c, storeCredentialsRequest)));
  route('accessToken', async (c, id) => {
    const raw = c.req.query('minValiditySeconds');
    let minMs = defaultMinValidityMs;
    if (raw !== undefined) {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n > MAX_MIN_VALIDITY_SECONDS)
        throw invalid(`minValiditySeconds must be an integer from 0 to ${MAX_MIN_VALIDITY_SECONDS}`);
      minMs = n * 1000;
    }
    return tokens.getAccessToken(id, minMs);
  });
  route('refresh', async (c, id) =>
    tokens.refreshAfterRejection(id, (await body(c, refreshRequest)).rejectedAccessToken),
  );
  route('status', async (_c, id) => tokens.status(id));
  route('revoke', async (_c, id) => tokens.revoke(id));
}
