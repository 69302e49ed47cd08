import type { z } from 'zod';
import {
  type AccessTokenResponse,
  accessTokenResponse,
  type CredentialStatus,
  credentialStatus,
  paths,
  problemBody,
  type RevokeResponse,
  revokeResponse,
  type StoreCredentialsRequest,
  type StoreCredentialsResponse,
  storeCredentialsResponse,
  type TokenApiErrorCode,
  tokenApiErrorCodes,
} from './contract.js';

/**
 * A failed call to the token-service. The message names the operation and the code, never a token, and the
 * HTTP status is `httpStatus` (not `status`) so an edge does not pass the token-service's status on by
 * accident.
 */
export class TokenServiceError extends Error {
  readonly code: TokenApiErrorCode | 'unreachable' | 'timeout' | 'bad_response';
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  /** From `Retry-After`, when the token-service sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: TokenServiceError['code'],
    message: string,
    options: { httpStatus?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenServiceError';
    this.code = code;
    this.httpStatus = options.httpStatus;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable =
      code === 'unreachable' ||
      code === 'timeout' ||
      code === 'refresh_unavailable' ||
      code === 'refresh_throttled' ||
      code === 'internal_error';
  }
}

export interface TokenServiceClientOptions {
  baseUrl: string;
  /** The service credential; a function so a rotated credential is picked up without a restart. */
  credential: () => string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface TokenServiceClient {
  storeCredentials(connectionId: string, body: StoreCredentialsRequest): Promise<StoreCredentialsResponse>;
  getAccessToken(
    connectionId: string,
    options?: { minValiditySeconds?: number },
  ): Promise<AccessTokenResponse>;
  refreshAfterRejection(connectionId: string, rejectedAccessToken: string): Promise<AccessTokenResponse>;
  status(connectionId: string): Promise<CredentialStatus>;
  revoke(connectionId: string): Promise<RevokeResponse>;
}

const knownCodes = new Set<string>(tokenApiErrorCodes);

export function createTokenServiceClient({
  baseUrl,
  credential,
  timeoutMs = 10_000,
  fetch: fetchImpl = fetch,
}: TokenServiceClientOptions): TokenServiceClient {
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(
    operation: string,
    method: string,
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetchImpl(base + path, {
        method,
        headers: {
          authorization: `Bearer ${credential()}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      // The cause is dropped on purpose: a fetch error can quote the request, and the request may hold tokens.
      throw new TokenServiceError(
        timedOut ? 'timeout' : 'unreachable',
        `token-service ${operation}: ${timedOut ? `no answer within ${timeoutMs} ms` : 'unreachable'}`,
      );
    }
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const problem = problemBody.safeParse(json);
      const code =
        problem.success && knownCodes.has(problem.data.code)
          ? (problem.data.code as TokenApiErrorCode)
          : res.status >= 500
            ? 'internal_error'
            : 'bad_response';
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new TokenServiceError(code, `token-service ${operation}: ${res.status} ${code}`, {
        httpStatus: res.status,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new TokenServiceError(
        'bad_response',
        `token-service ${operation}: the answer breaks the contract`,
        {
          httpStatus: res.status,
        },
      );
    }
    return parsed.data;
  }

  return {
    storeCredentials: (connectionId, body) =>
      call('store credentials', 'PUT', paths.credentials(connectionId), storeCredentialsResponse, body),
    getAccessToken: (connectionId, { minValiditySeconds } = {}) =>
      call(
        'get access token',
        'GET',
        paths.accessToken(connectionId) +
          (minValiditySeconds === undefined ? '' : `?minValiditySeconds=${minValiditySeconds}`),
        accessTokenResponse,
      ),
    refreshAfterRejection: (connectionId, rejectedAccessToken) =>
      call('refresh', 'POST', paths.refresh(connectionId), accessTokenResponse, { rejectedAccessToken }),
    status: (connectionId) => call('status', 'GET', paths.status(connectionId), credentialStatus),
    revoke: (connectionId) => call('revoke', 'POST', paths.revoke(connectionId), revokeResponse, {}),
  };
}
