import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import type { Logger } from '@qbo/service-kit';
import type { ApiLogSink } from '../api-log/row.js';
import { BudgetExhaustedError } from '../budget/budget.js';
import { defined, isQboError, QboError } from '../errors.js';
import type { TokenProvider } from '../tokens.js';
import { type AttemptDeps, attempt, type Failure, type Outcome } from './attempt.js';
import type { CallContext } from './context.js';
import { apiLogRow, callAttributes, endFailed, rowBase } from './observe.js';
import { type ApiRequest, assertRealm, loggedQuery, requestUrl } from './request.js';
import { type RetryOptions, retryDelay } from './retry-policy.js';

export interface CallDeps extends AttemptDeps {
  baseUrl: string;
  minorVersion: number;
  tokens: TokenProvider;
  apiLog: ApiLogSink | undefined;
  log: Logger;
  retry: RetryOptions;
  tracer: Tracer;
  random: () => number;
}

export interface CallResult {
  json: unknown;
  attempts: number;
  intuitTid: string | null;
}

export type Call = (realmId: string, request: ApiRequest, ctx: CallContext) => Promise<CallResult>;

/**
 * The one path every Accounting API call takes: a CLIENT span, a token, then attempts until one succeeds or
 * the failure is final. Each attempt waits for budget and is logged; a 401 reloads the token once
 * (compare-and-refresh) and tries again; a 429 pauses the whole realm, fleet-wide, for Intuit's advised
 * minute; 5xx, timeouts and resets back off with jitter.
 */
export function createCall(deps: CallDeps): Call {
  const { log, tokens } = deps;

  return (realmId, request, given) => {
    assertRealm(realmId);
    const ctx = { ...given, callId: given.callId ?? randomUUID() };
    const { callId } = ctx;
    const url = requestUrl(deps.baseUrl, realmId, request, deps.minorVersion);
    const query = loggedQuery(url, request);
    const name = `QBO ${request.operation}${request.entityType ? ` ${request.entityType}` : ''}`;
    return deps.tracer.startActiveSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: callAttributes(url, query, realmId, request, ctx) },
      async (span) => {
        const row = rowBase(span, url, query, realmId, request, ctx, callId);
        const logRow = (n: number, o: Outcome, retryDelayMs: number) =>
          deps.apiLog?.write(apiLogRow(row, n, o, retryDelayMs));
        const fail = (failure: Failure, attempts: number, intuitTid: string | null) =>
          new QboError({
            ...failure,
            attempts,
            operation: request.operation,
            callId,
            ...defined({
              entityType: request.entityType,
              entityId: request.entityId,
              intuitTid: intuitTid ?? undefined,
            }),
          });

        let attempts = 0;
        let budgetWaitMs = 0;
        try {
          let token = await accessToken(() => tokens.getAccessToken(realmId), realmId, log);
          let refreshed = false;
          let retryDelayMs = 0;
          for (;;) {
            attempts++;
            let outcome: Outcome;
            try {
              outcome = await attempt(deps, realmId, url, request, token, ctx.signal);
            } catch (err) {
              if (ctx.signal?.aborted) throw err;
              if (!(err instanceof BudgetExhaustedError)) {
                // Without its budget store the client cannot know what Intuit would allow, so it sends nothing.
                log.warn({ err, realmId }, 'qbo budget store unavailable');
                throw fail(
                  {
                    category: 'network',
                    code: 'budget_unavailable',
                    message: 'the request budget could not be read',
                  },
                  attempts,
                  null,
                );
              }
              budgetWaitMs += err.waitedMs;
              const failure: Failure = {
                category: 'rate_limit',
                code: 'budget_wait_exceeded',
                message: err.message,
              };
              logRow(attempts, exhausted(deps.now(), err, failure), retryDelayMs);
              throw fail(failure, attempts, null);
            }
            budgetWaitMs += outcome.budgetWaitMs;
            logRow(attempts, outcome, retryDelayMs);
            span.setAttributes(
              defined({
                'http.response.status_code': outcome.status ?? undefined,
                'qbo.intuit_tid': outcome.intuitTid ?? undefined,
              }),
            );
            const failure = outcome.failure;
            if (!failure) return { json: outcome.json, attempts, intuitTid: outcome.intuitTid };

            if (outcome.status === 401 && !refreshed) {
              refreshed = true;
              span.addEvent('qbo.token_reload', { 'qbo.attempt': attempts });
              const rejected = token;
              token = await accessToken(() => tokens.refreshAfterRejection(realmId, rejected), realmId, log);
              retryDelayMs = 0;
              continue;
            }
            const retry =
              ctx.maxAttempts === undefined ? deps.retry : { ...deps.retry, maxAttempts: ctx.maxAttempts };
            const delay = retryDelay(
              failure.category,
              attempts - (refreshed ? 1 : 0),
              retry,
              outcome.retryAfterMs,
              deps.random,
            );
            let paused = false;
            if (failure.category === 'rate_limit') {
              // Intuit throttled the realm: every replica's calls to it wait out the pause, retried or not,
              // and this call's own wait then shows as budget wait on its next attempt.
              const pauseMs = delay ?? outcome.retryAfterMs ?? deps.retry.rateLimitDelayMs;
              paused = await deps.budget.pause(realmId, pauseMs).then(
                () => true,
                (err: unknown) => {
                  log.warn({ err, realmId }, 'qbo budget pause failed');
                  return false;
                },
              );
            }
            if (delay === undefined) throw fail(failure, attempts, outcome.intuitTid);
            log.warn(
              {
                realmId,
                orgId: ctx.orgId,
                operation: request.operation,
                attempt: attempts,
                status: outcome.status,
                faultCode: failure.code,
                category: failure.category,
                intuitTid: outcome.intuitTid,
                delayMs: delay,
              },
              'qbo call retrying',
            );
            span.addEvent('qbo.retry', {
              'qbo.attempt': attempts,
              'qbo.error.category': failure.category,
              'qbo.fault_code': failure.code,
              'qbo.retry_delay_ms': delay,
            });
            retryDelayMs = 0;
            if (!paused) {
              await sleep(delay, undefined, ctx.signal ? { signal: ctx.signal } : undefined).catch(
                (err: unknown) => {
                  throw ctx.signal?.aborted ? ctx.signal.reason : err;
                },
              );
              retryDelayMs = delay;
            }
          }
        } catch (err) {
          const error = isQboError(err)
            ? err.with({
                attempts: Math.max(attempts, err.attempts),
                callId,
                ...defined({
                  operation: err.operation ?? request.operation,
                  entityType: err.entityType ?? request.entityType,
                  entityId: err.entityId ?? request.entityId,
                }),
              })
            : err;
          if (isQboError(error)) {
            log.warn(
              {
                realmId,
                orgId: ctx.orgId,
                operation: request.operation,
                category: error.category,
                faultCode: error.code,
                attempts: error.attempts,
                intuitTid: error.intuitTid,
              },
              'qbo call failed',
            );
          }
          endFailed(span, error);
          throw error;
        } finally {
          span.setAttributes({ 'qbo.attempts': attempts, 'qbo.budget_wait_ms': Math.round(budgetWaitMs) });
          span.end();
        }
      },
    );
  };
}

function exhausted(now: number, err: BudgetExhaustedError, failure: Failure): Outcome {
  return {
    startedAt: now,
    status: null,
    json: undefined,
    failure,
    intuitTid: null,
    retryAfterMs: undefined,
    budgetWaitMs: err.waitedMs,
    durationMs: 0,
    requestBytes: 0,
    responseBytes: null,
  };
}

/**
 * Token provider failures become auth errors that say nothing of the provider's message, which is not ours
 * to vouch for; the provider's error goes to the redacting logger instead.
 */
async function accessToken(get: () => Promise<string>, realmId: string, log: Logger): Promise<string> {
  try {
    return await get();
  } catch (err) {
    if (isQboError(err)) throw err;
    log.warn({ err, realmId }, 'qbo access token unavailable');
    const code = (err as { code?: unknown })?.code;
    throw new QboError({
      category: 'auth',
      code: typeof code === 'string' && /^[a-z_]{1,40}$/i.test(code) ? code : 'token_unavailable',
      message: 'no usable access token for this company',
      attempts: 0,
    });
  }
}
