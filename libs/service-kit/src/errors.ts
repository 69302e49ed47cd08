/**
 * The base of every error a service raises on purpose. Guards check `code`, not `instanceof`, so errors
 * survive crossing package copies and serialisation.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
  }
}

export const isAppError = (err: unknown): err is AppError =>
  err instanceof Error &&
  typeof (err as Partial<AppError>).code === 'string' &&
  typeof (err as Partial<AppError>).status === 'number';

/** RFC 9457 problem details: the one error body shape every HTTP edge answers with. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
}

export function toProblem(err: unknown): Problem {
  if (isAppError(err)) {
    return { type: 'about:blank', title: err.message, status: err.status, code: err.code };
  }
  // Unknown failures say nothing about their cause: messages may carry upstream bodies.
  return { type: 'about:blank', title: 'Internal error', status: 500, code: 'internal_error' };
}
