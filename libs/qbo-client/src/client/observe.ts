import { isSpanContextValid, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { ApiLogRow } from '../api-log/row.js';
import { defined, isQboError } from '../errors.js';
import type { Outcome } from './attempt.js';
import type { CallContext } from './context.js';
import type { ApiRequest } from './request.js';

/** The CLIENT span's attributes at the start of a call: HTTP semantic conventions plus Intuit's. */
export function callAttributes(
  url: URL,
  query: string | null,
  realmId: string,
  request: ApiRequest,
  ctx: CallContext,
) {
  return {
    'http.request.method': request.method,
    'server.address': url.hostname,
    'url.full': `${url.origin}${url.pathname}${query ? `?${query}` : ''}`,
    ...defined({
      'server.port': url.port ? Number(url.port) : undefined,
      'qbo.realm_id': realmId,
      'qbo.org_id': ctx.orgId,
      'qbo.operation': request.operation,
      'qbo.entity_type': request.entityType,
      'qbo.entity_id': request.entityId,
      'qbo.correlation_id': ctx.correlationId,
      'qbo.call_id': ctx.callId,
    }),
  };
}

type RowBase = Omit<
  ApiLogRow,
  | 'at'
  | 'status'
  | 'faultCode'
  | 'category'
  | 'intuitTid'
  | 'attempt'
  | 'budgetWaitMs'
  | 'retryDelayMs'
  | 'durationMs'
  | 'requestBytes'
  | 'responseBytes'
>;

/** What every API log row of one call shares, the call span's ids included. */
export function rowBase(
  span: Span,
  url: URL,
  query: string | null,
  realmId: string,
  request: ApiRequest,
  ctx: CallContext,
  callId: string,
): RowBase {
  const spanContext = span.spanContext();
  const valid = isSpanContextValid(spanContext);
  return {
    orgId: ctx.orgId,
    realmId,
    operation: request.operation,
    method: request.method,
    path: url.pathname,
    query,
    entityType: request.entityType ?? null,
    entityId: request.entityId ?? null,
    traceId: valid ? spanContext.traceId : null,
    spanId: valid ? spanContext.spanId : null,
    correlationId: ctx.correlationId ?? null,
    callId,
  };
}

export function apiLogRow(base: RowBase, attempt: number, o: Outcome, retryDelayMs: number): ApiLogRow {
  return {
    ...base,
    at: new Date(o.startedAt),
    status: o.status,
    faultCode: o.failure?.code ?? null,
    category: o.failure?.category ?? null,
    intuitTid: o.intuitTid,
    attempt,
    budgetWaitMs: Math.round(o.budgetWaitMs),
    retryDelayMs: Math.round(retryDelayMs),
    durationMs: Math.round(o.durationMs),
    requestBytes: o.requestBytes,
    responseBytes: o.responseBytes,
  };
}

export function endFailed(span: Span, err: unknown): void {
  if (isQboError(err)) {
    span.setAttributes({
      'error.type': err.category,
      'qbo.error.category': err.category,
      'qbo.fault_code': err.code,
      'qbo.retryable': err.retryable,
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    span.recordException({ name: err.name, message: err.message });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'call abandoned' });
  }
}
