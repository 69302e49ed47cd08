import type { Category } from '@qbo/qbo-client';

/** A failure as the run events and rows carry it: a class and a code, never a message from upstream. */
export type FailureCategory = Category | 'internal';

export interface FailureSummary {
  category: FailureCategory;
  code: string;
  retryable: boolean;
  remediation?: string;
}

export interface KnownFailure {
  category: FailureCategory;
  /** Whether retrying (the record, or the run) can succeed once the remediation is done, or by itself. */
  retryable: boolean;
  /** A sentence an operator can act on, written by us. */
  remediation: string;
}

/**
 * Every failure code the sync knows, Intuit's (docs/qbo-api-facts.md, "Error codes") and its own, with what an
 * operator does about it. The one table of remediations: error rows, run rows and events all take theirs
 * from here; a code not listed falls back to its category's advice from `@qbo/qbo-client`.
 */
export const FAILURES: Readonly<Record<string, KnownFailure>> = {
  // Intuit: a record it cannot return (sync-research §1.10) or a request it refused.
  '4002': {
    category: 'validation',
    retryable: true,
    remediation:
      'QuickBooks cannot return this record because some of its data is invalid (for a customer, often the email address): correct the record in QuickBooks, then retry it.',
  },
  '10000': {
    category: 'server',
    retryable: true,
    remediation:
      'QuickBooks failed on this record (SystemFault): retry it; if it keeps failing, open and save the record in QuickBooks, then retry.',
  },
  '610': {
    category: 'not_found',
    retryable: true,
    remediation:
      'The record is inactive or was deleted in QuickBooks (Object Not Found): make it active again there if it should be synced, then retry; otherwise nothing to do.',
  },
  '6000': {
    category: 'validation',
    retryable: true,
    remediation:
      'QuickBooks refused the record under one of its business rules: correct it in QuickBooks as the rule requires, then retry.',
  },
  '6190': {
    category: 'validation',
    retryable: true,
    remediation:
      "The company's QuickBooks subscription is not in good standing: the customer must settle it with Intuit, then retry.",
  },
  '6240': {
    category: 'validation',
    retryable: true,
    remediation: 'Another record in QuickBooks already has this name: rename one of them there, then retry.',
  },
  '5010': {
    category: 'conflict',
    retryable: true,
    remediation: 'The record changed in QuickBooks while it was being read: retry it.',
  },
  '4000': {
    category: 'validation',
    retryable: false,
    remediation:
      "QuickBooks refused the sync's query: this is a defect of the sync to report, not the customer's.",
  },
  '4001': {
    category: 'validation',
    retryable: false,
    remediation:
      "QuickBooks refused the sync's query: this is a defect of the sync to report, not the customer's.",
  },
  '3001': {
    category: 'rate_limit',
    retryable: true,
    remediation:
      "Intuit's per-company request limit was reached: the sync waits a minute and resumes by itself.",
  },
  '3200': {
    category: 'auth',
    retryable: false,
    remediation:
      "QuickBooks refused the connection's authorization: the customer must reconnect the company.",
  },
  '120': {
    category: 'auth',
    retryable: false,
    remediation:
      'The QuickBooks user who connected the company lost access to it: a user with access must reconnect the company.',
  },
  '3100': {
    category: 'permission',
    retryable: false,
    remediation:
      'The connection is not valid for this company or lacks the accounting scope: the customer must reconnect the company.',
  },
  // The sync's own.
  lease_lost: {
    category: 'conflict',
    retryable: false,
    remediation: 'Another replica took over this org; nothing to do.',
  },
  connection_stopped: {
    category: 'auth',
    retryable: false,
    remediation: 'The connection was deactivated or disconnected; the org must reconnect the company.',
  },
  replica_stopping: {
    category: 'internal',
    retryable: true,
    remediation: 'The replica stopped during the run; it resumes from its last committed page.',
  },
  run_interrupted: {
    category: 'internal',
    retryable: true,
    remediation:
      'The replica running this sync stopped without finishing it (killed or lost); the next run resumed from its last committed page: nothing to do.',
  },
  tie_group_unstable: {
    category: 'server',
    retryable: true,
    remediation: 'Records kept changing while they were read; the run resumes by itself.',
  },
  missing_time: {
    category: 'server',
    retryable: true,
    remediation: 'Intuit answered without its clock; the run resumes by itself.',
  },
};

/** Intuit's codes sometimes arrive zero-padded (`003001` in a throttle's XML, `003200` in a 401's message). */
const known = (code: string): KnownFailure | undefined =>
  FAILURES[code] ?? FAILURES[code.replace(/^0+(?=\d)/, '')];

/** What a record that failed with this code is, for its error row: category, retryability and remediation. */
export function recordFailure(code: string): KnownFailure {
  return (
    known(code) ?? {
      category: 'internal',
      retryable: true,
      remediation:
        'The sync failed on this record for a reason it does not know: retry it, and report it if it keeps failing.',
    }
  );
}

/** Summarises any error a run met, by the code and category it carries (QboError or our own). */
export function summarise(err: unknown): FailureSummary {
  const e = (err ?? {}) as { code?: unknown; category?: unknown; retryable?: unknown; remediation?: unknown };
  const code = typeof e.code === 'string' ? e.code.slice(0, 64) : 'internal_error';
  const entry = known(code);
  // Our own codes keep the table's category; Intuit's keep the one the client filed them under.
  const ours = entry !== undefined && !/^\d+$/.test(code);
  if (typeof e.category === 'string' && !ours) {
    const remediation = entry?.remediation ?? (typeof e.remediation === 'string' ? e.remediation : undefined);
    return {
      category: e.category as Category,
      code,
      retryable: e.retryable === true,
      ...(remediation === undefined ? {} : { remediation: remediation.slice(0, 500) }),
    };
  }
  if (entry) {
    return {
      category: entry.category,
      code,
      retryable: e.retryable === true,
      remediation: entry.remediation,
    };
  }
  return { category: 'internal', code: 'internal_error', retryable: true };
}

/** The id of the Intuit call an error came from (`qbo_api_log.call_id`), when it came from one. */
export function callIdOf(err: unknown): string | undefined {
  const id = (err as { callId?: unknown } | null | undefined)?.callId;
  return typeof id === 'string' ? id : undefined;
}

export interface RetryPlan {
  /** Whether the schedule tries again by itself. */
  willRetry: boolean;
  delayMs: number;
}

/**
 * When a failed company is tried again: an auth failure waits for a reconnect (no further calls until a
 * connection event says so); a throttle waits the budget out; anything else backs off exponentially.
 */
export function retryPlan(
  failure: FailureSummary,
  attempts: number,
  { baseMs, maxMs }: { baseMs: number; maxMs: number },
): RetryPlan {
  if (failure.category === 'auth' || failure.category === 'permission') {
    return { willRetry: false, delayMs: Number.POSITIVE_INFINITY };
  }
  if (failure.code === 'lease_lost' || failure.code === 'replica_stopping') {
    return { willRetry: true, delayMs: baseMs };
  }
  const delayMs = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 20));
  return {
    willRetry: true,
    delayMs: failure.category === 'rate_limit' ? Math.max(delayMs, 60_000) : delayMs,
  };
}
