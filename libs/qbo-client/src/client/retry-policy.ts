import type { Category } from '../errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included; the one extra attempt after a token reload is on top. */
  maxAttempts: number;
  /** Backoff for 5xx, timeouts and network failures: full jitter over base × 2^(attempt−1), capped. */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The pause after a 429. Intuit sends no Retry-After and advises waiting 60 s
   * (https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles).
   */
  rateLimitDelayMs: number;
  /** The longest Retry-After honoured, should Intuit ever send one. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  rateLimitDelayMs: 60_000,
  maxRetryAfterMs: 300_000,
};

const RETRYABLE = new Set<Category>(['rate_limit', 'server', 'network', 'timeout']);

/**
 * How long to wait before the next attempt, or undefined when the failure is not worth another one:
 * validation, conflict, not found, permission and auth failures fail the same way again.
 */
export function retryDelay(
  category: Category,
  attempt: number,
  options: RetryOptions,
  retryAfterMs: number | undefined,
  random: () => number,
): number | undefined {
  if (!RETRYABLE.has(category) || attempt >= options.maxAttempts) return undefined;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs);
  if (category === 'rate_limit') {
    // Up to 10% more, so replicas that paused together do not all come back on the same millisecond.
    return Math.round(options.rateLimitDelayMs * (1 + random() * 0.1));
  }
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half random: spreads retries out while still backing off as attempts grow.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
