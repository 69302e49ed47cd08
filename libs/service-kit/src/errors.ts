export interface AppErrorOptions {
  /** The HTTP status an edge answers with; 500 when unset. */
  status?: number;
  retryable?: boolean;
  /** When the caller may try again: sent as `Retry-After`. */
  retryAfterSeconds?: number;
  /** The scheme a 401 asks for: sent as `WWW-Authenticate`. */
  authenticate?: string;
  cause?: unknown;
}

/** Marks our errors across package copies (a registered symbol is one symbol in the whole process). */
const APP_ERROR = Symbol.for('@qbo/service-kit.AppError');

/**
 * The base of every error a service raises on purpose. Guards check `code` (`hasCode`), not `instanceof`, so
 * errors survive crossing package copies and serialisation.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  readonly authenticate: string | undefined;
  readonly [APP_ERROR] = true;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.authenticate = options.authenticate;
  }
}

/**
 * One of ours, whichever copy of this package made it. An error that merely has a `code` and a `status` (a
 * QboError carries Intuit's) is not: its status is someone else's answer, not ours to pass on.
 */
export const isAppError = (err: unknown): err is AppError =>
  err instanceof Error && (err as { [APP_ERROR]?: unknown })[APP_ERROR] === true;

/**
 * The code an error carries (an AppError's, a client error's such as the token-service client's, a driver's
 * SQLSTATE), else undefined: what guards test instead of `instanceof`, which fails across package copies.
 */
export const errorCode = (err: unknown): string | undefined => {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
};

/** True when the error carries one of the given codes. */
export const hasCode = (err: unknown, ...codes: readonly string[]): err is Error & { code: string } => {
  const code = errorCode(err);
  return code !== undefined && codes.includes(code);
};

/** RFC 9457 problem details: the one error body shape every HTTP edge answers with. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
}

export function toProblem(err: unknown): Problem {
  if (isAppError(err) && err.status !== 500) {
    return { type: 'about:blank', title: err.message, status: err.status, code: err.code };
  }
  // Unknown and internal failures say nothing about their cause: messages may carry upstream bodies.
  return { type: 'about:blank', title: 'Internal error', status: 500, code: 'internal_error' };
}

/** The response headers an error asks for besides the content type. */
export function problemHeaders(err: unknown): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (!isAppError(err)) return headers;
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  if (err.authenticate !== undefined) headers['www-authenticate'] = err.authenticate;
  return headers;
}
