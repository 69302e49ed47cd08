import type { Budget } from '../budget/budget.js';
import { transportFailure } from '../classify.js';
import { type Category, categorise, faultField, parseFault, safeMessage } from '../errors.js';
import type { ApiRequest } from './request.js';
import { parseRetryAfter } from './retry-policy.js';

/** Why an attempt did not succeed, before it becomes a QboError. */
export interface Failure {
  category: Category;
  code: string;
  message: string;
  status?: number;
  faultType?: string;
  field?: string;
}

export interface Outcome {
  startedAt: number;
  status: number | null;
  /** The parsed body of a successful answer. */
  json: unknown;
  failure: Failure | undefined;
  intuitTid: string | null;
  retryAfterMs: number | undefined;
  budgetWaitMs: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number | null;
}

export interface AttemptDeps {
  budget: Budget;
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

const decoder = new TextDecoder();

/**
 * One attempt: wait for the realm's budget, send, read the whole answer, give the in-flight slot back.
 * Failures are returned, not thrown, so the caller decides on retries; only the caller's own cancel and an
 * exhausted budget throw.
 */
export async function attempt(
  deps: AttemptDeps,
  realmId: string,
  url: URL,
  request: ApiRequest,
  token: string,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const permit = await deps.budget.acquire(
    realmId,
    request.operation === 'batch' ? 'batch' : 'request',
    signal,
  );
  const startedAt = deps.now();
  const timeout = AbortSignal.timeout(deps.timeoutMs);
  const requestBytes = request.body === undefined ? 0 : Buffer.byteLength(request.body);
  const base = { startedAt, budgetWaitMs: permit.waitedMs, requestBytes };
  let abandoned = false;
  try {
    const response = await deps.fetch(url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': request.contentType ?? 'application/json' }),
      },
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const text = decoder.decode(bytes);
    const status = response.status;
    const answer = {
      ...base,
      status,
      intuitTid: response.headers.get('intuit_tid'),
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), Date.now()),
      durationMs: deps.now() - startedAt,
      responseBytes: bytes.byteLength,
    };
    if (status >= 200 && status < 300) {
      const parsed = parseBody(text);
      return { ...answer, json: parsed.json, failure: parsed.failure };
    }
    const fault = parseFault(text);
    return {
      ...answer,
      json: undefined,
      failure: {
        category: categorise(status, fault),
        code: fault?.code ?? String(status),
        message: safeMessage(fault, `QuickBooks answered HTTP ${status}`),
        status,
        ...(fault?.type === undefined ? {} : { faultType: fault.type }),
        ...fieldOf(fault),
      },
    };
  } catch (err) {
    if (signal?.aborted) {
      abandoned = true;
      throw signal.reason;
    }
    // A timed-out request may still be running at Intuit, so its slot stays taken until the lease ends.
    abandoned = timeout.aborted;
    return {
      ...base,
      status: null,
      json: undefined,
      failure: transportFailure(err, timeout.aborted),
      intuitTid: null,
      retryAfterMs: undefined,
      durationMs: deps.now() - startedAt,
      responseBytes: null,
    };
  } finally {
    permit.release(abandoned ? 'abandoned' : 'done');
  }
}

/** A 2xx answer that is not JSON, or holds a Fault, is still a failure. */
function parseBody(text: string): { json: unknown; failure: Failure | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      json: undefined,
      failure: {
        category: 'server',
        code: 'invalid_response',
        message: 'QuickBooks answered with a body that is not JSON',
      },
    };
  }
  if (json && typeof json === 'object' && 'Fault' in json) {
    const fault = parseFault(text);
    return {
      json: undefined,
      failure: {
        category: categorise(400, fault),
        code: fault?.code ?? 'fault',
        message: safeMessage(fault, 'QuickBooks answered with a fault'),
        ...(fault?.type === undefined ? {} : { faultType: fault.type }),
        ...fieldOf(fault),
      },
    };
  }
  return { json, failure: undefined };
}

const fieldOf = (fault: ReturnType<typeof parseFault>): { field?: string } => {
  const field = faultField(fault);
  return field === undefined ? {} : { field };
};
