/**
 * One attempt at one Accounting API call, as stored in `qbo_api_log`. Holds no token, header or body:
 * the path, the allowlisted query parameters (the SELECT text capped), and what came back.
 */
export interface ApiLogRow {
  at: Date;
  orgId: string | null;
  realmId: string;
  operation: string;
  method: string;
  path: string;
  query: string | null;
  entityType: string | null;
  entityId: string | null;
  /** HTTP status, null when no answer came (timeout, connection reset). */
  status: number | null;
  /** Intuit's fault code, or the failure code when there was no answer. */
  faultCode: string | null;
  category: string | null;
  intuitTid: string | null;
  /** 1 for the first attempt of the call. */
  attempt: number;
  /** Time spent waiting for the realm's budget before this attempt. */
  budgetWaitMs: number;
  /** Backoff slept before this attempt (0 for the first). */
  retryDelayMs: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number | null;
  traceId: string | null;
  spanId: string | null;
  correlationId: string | null;
  /** The call this attempt belongs to: one id for all its attempts, also on the QboError it may end in. */
  callId?: string | null;
}

/** Where the client hands rows; it must return at once and never throw. */
export interface ApiLogSink {
  write(row: ApiLogRow): void;
}

/** Where rows end up, in batches. */
export interface ApiLogStore {
  insert(rows: readonly ApiLogRow[]): Promise<void>;
}
