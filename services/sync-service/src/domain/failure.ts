import type { Category } from '@qbo/qbo-client';

/** A failure as the run events and rows carry it: a class and a code, never a message from upstream. */
export type FailureCategory = Category | 'internal';

export interface FailureSummary {
  category: FailureCategory;
  code: string;
  retryable: boolean;
  remediation?: string;
}

const ours: Record<string, { category: FailureCategory; remediation: string }> = {
  lease_lost: {
    category: 'conflict',
    remediation: 'Another replica took over this org; nothing to do.',
  },
  connection_stopped: {
    category: 'auth',
    remediation: 'The connection was deactivated or disconnected; the org must reconnect the company.',
  },
  replica_stopping: {
    category: 'internal',
    remediation: 'The replica stopped during the run; it resumes from its last committed page.',
  },
  tie_group_unstable: {
    category: 'server',
    remediation: 'Records kept changing while they were read; the run resumes by itself.',
  },
  missing_time: {
    category: 'server',
    remediation: 'Intuit answered without its clock; the run resumes by itself.',
  },
};

/** Summarises any error a run met, by the code and category it carries (QboError or our own). */
export function summarise(err: unknown): FailureSummary {
  const e = (err ?? {}) as { code?: unknown; category?: unknown; retryable?: unknown; remediation?: unknown };
  const code = typeof e.code === 'string' ? e.code.slice(0, 64) : 'internal_error';
  const known = ours[code];
  if (known) {
    return {
      category: known.category,
      code,
      retryable: e.retryable === true,
      remediation: known.remediation,
    };
  }
  if (typeof e.category === 'string') {
    return {
      category: e.category as Category,
      code,
      retryable: e.retryable === true,
      ...(typeof e.remediation === 'string' ? { remediation: e.remediation.slice(0, 500) } : {}),
    };
  }
  return { category: 'internal', code: 'internal_error', retryable: true };
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
