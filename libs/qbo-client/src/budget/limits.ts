/**
 * Intuit's per-company limits (https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles):
 * 500 requests in any 60 s per realm, 10 per second and (older policy) 10 in flight per realm and app, and
 * 40 batch requests per minute per realm and app. Intuit measures them as rolling windows.
 */
export const INTUIT_LIMITS = { perMinute: 500, perSecond: 10, concurrent: 10, batchPerMinute: 40 } as const;

/** Intuit cuts a request after 120 s, so an in-flight slot older than that cannot still be in use there. */
export const INTUIT_REQUEST_TIMEOUT_MS = 120_000;

export interface BudgetLimits {
  perMinute: number;
  perSecond: number;
  concurrent: number;
  batchPerMinute: number;
  /** Window lengths; only tests shorten them. */
  minuteMs: number;
  secondMs: number;
  /**
   * Added to every window. A request is admitted here and counted there a little later; two requests
   * admitted a full window apart can arrive closer together when the first one is delayed (a GC pause, a
   * slow socket). Widening the window by the worst expected delay keeps Intuit's count within the limit.
   */
  marginMs: number;
  /** How long an in-flight slot lives when its holder never releases it (crash, abandoned request). */
  leaseMs: number;
}

export interface BudgetLimitOptions extends Partial<BudgetLimits> {
  /**
   * Fraction of each count kept in reserve (0.1 → 450/min, 9/s, 9 in flight): other apps connected to the
   * same company share the per-minute limit, and Intuit's own counting may differ from ours at the edges.
   */
  headroom?: number;
}

/** The limits the budget enforces: Intuit's, less the headroom, with overrides taken as given. */
export function budgetLimits({ headroom = 0.1, ...overrides }: BudgetLimitOptions = {}): BudgetLimits {
  if (!(headroom >= 0 && headroom < 1)) throw new RangeError('headroom must be in [0, 1)');
  const keep = (n: number) => Math.max(1, Math.floor(n * (1 - headroom)));
  const limits: BudgetLimits = {
    perMinute: keep(INTUIT_LIMITS.perMinute),
    perSecond: keep(INTUIT_LIMITS.perSecond),
    concurrent: keep(INTUIT_LIMITS.concurrent),
    batchPerMinute: keep(INTUIT_LIMITS.batchPerMinute),
    minuteMs: 60_000,
    secondMs: 1_000,
    marginMs: 250,
    leaseMs: INTUIT_REQUEST_TIMEOUT_MS + 5_000,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0 || (key !== 'marginMs' && value === 0)) {
      throw new RangeError(`budget limit ${key} must be a positive integer`);
    }
  }
  return limits;
}
