import { AppError, hasCode } from '@qbo/service-kit';

export const notFound = () =>
  new AppError('connection_not_found', 'No credentials for this connection', { status: 404 });

export const disconnected = () =>
  new AppError('connection_disconnected', 'The connection was revoked or disconnected; no token is served', {
    status: 410,
  });

export const reauthorize = () =>
  new AppError('reauthorization_required', 'The grant is no longer valid; the org must reconnect', {
    status: 409,
  });

export const conflict = () =>
  new AppError('connection_conflict', 'The connection belongs to another org or realm', { status: 409 });

/** A refresh that cannot happen now; the caller is told when to come back (`Retry-After`). */
export const refreshUnavailable = (message: string, retryAfterSeconds: number) =>
  new AppError('refresh_unavailable', message, { status: 503, retryable: true, retryAfterSeconds });

/** Backing off after transient failures: come back when the next attempt is due. */
export const backingOff = (retryAt: number, now: number) =>
  refreshUnavailable(
    'Intuit is failing transiently; try again later',
    Math.max(1, Math.ceil((retryAt - now) / 1000)),
  );

export const appPaused = (retryAfterSeconds = 300) =>
  new AppError(
    'app_credentials_rejected',
    'Intuit rejected the app credentials; refreshing is paused and probed until they work again',
    { status: 503, retryable: true, retryAfterSeconds },
  );

/** A compare-and-refresh inside the connection's throttle window: come back when it has passed. */
export const throttled = (retryAt: number, now: number) =>
  new AppError('refresh_throttled', 'This connection was force-refreshed moments ago; try again later', {
    status: 429,
    retryable: true,
    retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)),
  });

/** Another replica held the row past the lock timeout (a slow Intuit): the caller retries shortly. */
export const lockTimeout = (err: unknown): never => {
  if ((err as { code?: unknown }).code === '55P03') {
    throw refreshUnavailable('A refresh of this connection is in progress elsewhere', 1);
  }
  throw err;
};

/** A transient failure of this refresh, after which a still-valid token may still be served. */
export const isTransient = (err: unknown): boolean => hasCode(err, 'refresh_unavailable');

/**
 * An error's code (or class name) for logs and metrics: never its message, which may quote a value. Only a
 * short identifier-like code is kept, so nothing unbounded becomes a metric label.
 */
export function errorLabel(err: unknown): string {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  const ok = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v);
  if (ok(code)) return code;
  if (ok(name)) return name;
  return 'unknown';
}
