/** Who is calling and why, carried onto every log row and span of the call. */
export interface CallContext {
  orgId: string;
  /** The caller's correlation id: a sync run, a push command. */
  correlationId?: string;
  /**
   * This call's id, on each of its `qbo_api_log` rows and on the QboError it may end in; a fresh one when
   * absent. Give it to link what the call produced to its rows before the call returns.
   */
  callId?: string;
  /** Ends waiting, backoff and the request in flight. */
  signal?: AbortSignal;
  /**
   * Intuit's idempotency key for writes (`requestid`, at most 36 characters for batch, 50 otherwise). A
   * write gets a fresh one when absent; pass the command's own id to make a re-run of it safe too.
   */
  requestId?: string;
  /** Overrides the client's attempt count for this call (a pager that retries with smaller pages uses 1). */
  maxAttempts?: number;
}

/** A QuickBooks object as JSON; ids and SyncTokens are strings. */
export type QboObject = Record<string, unknown> & { Id?: string; SyncToken?: string };
