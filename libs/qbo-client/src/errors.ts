import { errorCategory } from '@qbo/events';

/**
 * Every failed Accounting API call becomes a QboError whose category says what kind of failure it is, and
 * whose remediation says what a person or the caller should do next. Categories follow Intuit's status codes
 * and fault codes: https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
 */

/**
 * The categories are the platform's error vocabulary, declared once in the event contract so that every
 * QboError fits the error summary that sync events carry; `internal` is ours alone, never Intuit's.
 */
export type Category = Exclude<(typeof errorCategory.options)[number], 'internal'>;
export const categories: readonly Category[] = errorCategory.options.filter(
  (c): c is Category => c !== 'internal',
);

export interface QboErrorDetails {
  category: Category;
  /** What the caller asked for: query, read, create, update, delete, cdc, batch. */
  operation?: string;
  /** Intuit's fault code (a string, e.g. "5010"), or the HTTP status / network error code when there is none. */
  code: string;
  status?: number;
  message: string;
  entityType?: string;
  entityId?: string;
  attempts: number;
  intuitTid?: string;
  faultType?: string;
  /** The call that failed: its `qbo_api_log` rows carry the same `call_id`. */
  callId?: string;
  /** The field a validation fault names (Intuit's `element`, or the property its detail names). */
  field?: string;
}

const retryableCategories = new Set<Category>(['rate_limit', 'server', 'network', 'timeout']);

const remediations: Record<Category, string> = {
  auth: 'The access token was refused after a refresh; the connection must be re-authorised by the customer.',
  permission:
    'The token is not valid for this company or lacks a scope, or the user lost access; reconnect the company with the accounting scope.',
  rate_limit:
    "Intuit's per-company limit was reached; the call is retried after a pause (Intuit advises 60 s).",
  validation: 'QuickBooks rejected the request content; fix the record or the request and retry this item.',
  not_found: 'The record or path does not exist in this company; it may have been deleted.',
  conflict:
    'The record changed in QuickBooks since it was read (stale SyncToken); re-read it and reapply the change.',
  server: 'QuickBooks failed to process the request; it is retried with backoff.',
  network: 'QuickBooks could not be reached; the call is retried with backoff.',
  timeout: 'QuickBooks did not answer in time; the call is retried with a smaller page or after backoff.',
};

export class QboError extends Error {
  readonly category: Category;
  readonly code: string;
  readonly status: number | undefined;
  readonly entityType: string | undefined;
  readonly entityId: string | undefined;
  readonly attempts: number;
  readonly retryable: boolean;
  readonly remediation: string;
  readonly intuitTid: string | undefined;
  readonly faultType: string | undefined;
  readonly operation: string | undefined;
  readonly callId: string | undefined;
  readonly field: string | undefined;

  constructor(details: QboErrorDetails, options?: { cause?: unknown }) {
    super(details.message, options);
    this.name = 'QboError';
    this.category = details.category;
    this.code = details.code;
    this.status = details.status;
    this.entityType = details.entityType;
    this.entityId = details.entityId;
    this.attempts = details.attempts;
    this.retryable = retryableCategories.has(details.category);
    this.remediation = remediations[details.category];
    this.intuitTid = details.intuitTid;
    this.faultType = details.faultType;
    this.operation = details.operation;
    this.callId = details.callId;
    this.field = details.field;
  }

  /** The same failure after more attempts, or with the entity the caller was working on. */
  with(
    details: Partial<Pick<QboErrorDetails, 'attempts' | 'entityType' | 'entityId' | 'operation' | 'callId'>>,
  ): QboError {
    return new QboError(
      {
        category: this.category,
        code: this.code,
        message: this.message,
        attempts: details.attempts ?? this.attempts,
        ...defined({
          status: this.status,
          entityType: details.entityType ?? this.entityType,
          entityId: details.entityId ?? this.entityId,
          intuitTid: this.intuitTid,
          faultType: this.faultType,
          operation: details.operation ?? this.operation,
          callId: details.callId ?? this.callId,
          field: this.field,
        }),
      },
      this.cause === undefined ? undefined : { cause: this.cause },
    );
  }

  /** The error as data, for sync error rows and events; never holds request bodies or credentials. */
  toJSON() {
    return {
      category: this.category,
      code: this.code,
      status: this.status,
      operation: this.operation,
      message: this.message,
      entityType: this.entityType,
      entityId: this.entityId,
      attempts: this.attempts,
      retryable: this.retryable,
      remediation: this.remediation,
      intuitTid: this.intuitTid,
      callId: this.callId,
      field: this.field,
    };
  }
}

export const isQboError = (err: unknown): err is QboError =>
  err instanceof Error && typeof (err as Partial<QboError>).category === 'string' && err.name === 'QboError';

export interface Fault {
  type?: string;
  code?: string;
  message?: string;
  detail?: string;
  /** The field the fault is about, when Intuit names one. */
  element?: string;
}

/**
 * Reads Intuit's fault bodies: the standard `{"Fault":{"Error":[…],"type":…}}`, the gateway's lower-case
 * `{"fault":{"error":[…]}}` on 401s, and the XML `<Fault type="SERVICE"><Error code="3001">` throttles arrive in.
 */
export function parseFault(body: string): Fault | undefined {
  const trimmed = body.trim();
  if (trimmed.startsWith('<')) {
    const type = /<Fault[^>]*\stype="([^"]+)"/i.exec(trimmed)?.[1];
    const code = /<Error[^>]*\scode="([^"]+)"/i.exec(trimmed)?.[1];
    const message = /<Message>([^<]*)<\/Message>/i.exec(trimmed)?.[1];
    const detail = /<Detail>([^<]*)<\/Detail>/i.exec(trimmed)?.[1];
    if (!type && !code) return undefined;
    return compact({ type, code, message, detail });
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const root = json as Record<string, unknown>;
  const fault = (root.Fault ?? root.fault) as Record<string, unknown> | undefined;
  if (!fault || typeof fault !== 'object') return undefined;
  const errors = (fault.Error ?? fault.error) as Record<string, unknown>[] | undefined;
  const first = Array.isArray(errors) ? errors[0] : undefined;
  return compact({
    type: str(fault.type),
    code: str(first?.code),
    message: str(first?.Message ?? first?.message),
    detail: str(first?.Detail ?? first?.detail),
    element: str(first?.element) || undefined,
  });
}

/** Drops undefined properties, which `exactOptionalPropertyTypes` will not accept in their place. */
export function defined<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;

function compact(fault: Record<string, string | undefined>): Fault {
  return Object.fromEntries(Object.entries(fault).filter(([, v]) => v !== undefined)) as Fault;
}

/**
 * The field a validation fault is about: Intuit's `element` when set ("Required parameter … missing" names it
 * there), else the property a 2010 detail names ("Property Name:AccountType specified is unsupported…").
 */
export function faultField(fault: Fault | undefined): string | undefined {
  if (fault?.element) return fault.element;
  return /Property Name:\s*([A-Za-z][\w.]*)/.exec(fault?.detail ?? '')?.[1];
}

/** The category of an HTTP answer from the Accounting API, from its status and fault. */
export function categorise(status: number, fault: Fault | undefined): Category {
  const code = Number(fault?.code);
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 429 || fault?.code === '3001') return 'rate_limit';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'server';
  if (fault?.code === '5010') return 'conflict';
  if (fault?.code === '610') return 'not_found';
  if (Number.isFinite(code) && code >= 100 && code < 500 && fault?.type?.toLowerCase().includes('auth')) {
    return 'permission';
  }
  return 'validation';
}

/**
 * Intuit's fault details can echo a token prefix ("Token expired: AB0173…"); messages kept on errors and in
 * logs drop anything after a "token" word and any long opaque string.
 */
export function safeMessage(fault: Fault | undefined, fallback: string): string {
  const text = [fault?.message, fault?.detail].filter(Boolean).join(': ') || fallback;
  return text
    .replace(/(token[^:]*:)\s*\S+/gi, '$1 [REDACTED]')
    .replace(/\b[A-Za-z0-9_-]{32,}\b/g, '[REDACTED]')
    .slice(0, 500);
}
