/** Intuit's per-realm limits (qbo-api-facts §6.3), each switchable for benchmarks. */
export interface LimitPolicy {
  enabled: boolean;
  perMinutePerRealm: number;
  perSecondPerRealmApp: number;
  /** The older policy: at most this many requests in flight per realm and app. */
  concurrentPerRealmApp: number;
  batchPerMinutePerRealmApp: number;
  batchPerMinutePerRealm: number;
  /**
   * Whether a throttled request still uses up its place in the windows. Intuit does not say; by default it
   * does not (the 501st request in a minute fails and the next minute starts clean). `true` makes a client
   * that keeps retrying into a 429 extend its own throttle.
   */
  countThrottled: boolean;
}

export const DEFAULT_LIMITS: LimitPolicy = {
  enabled: true,
  perMinutePerRealm: 500,
  perSecondPerRealmApp: 10,
  concurrentPerRealmApp: 10,
  batchPerMinutePerRealmApp: 40,
  batchPerMinutePerRealm: 120,
  countThrottled: false,
};

export type ThrottleReason =
  | 'per-minute'
  | 'per-second'
  | 'concurrent'
  | 'batch-per-minute-app'
  | 'batch-per-minute-realm';

export type Admission = { ok: true; release: () => void } | { ok: false; reason: ThrottleReason };

/** Timestamps of admitted requests inside a sliding window. */
class Window {
  readonly #times: number[] = [];
  #head = 0;

  count(now: number, spanMs: number): number {
    while (this.#head < this.#times.length && (this.#times[this.#head] as number) <= now - spanMs)
      this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  add(now: number): void {
    this.#times.push(now);
  }
}

/**
 * Sliding windows on the simulator clock (so tests can step through a minute), plus an in-flight count on
 * real time. A throttled request is not counted unless `countThrottled` is set.
 */
export class RateLimiter {
  policy: LimitPolicy;
  readonly #windows = new Map<string, Window>();
  readonly #inFlight = new Map<string, number>();

  constructor(policy: LimitPolicy = DEFAULT_LIMITS) {
    this.policy = policy;
  }

  #window(key: string): Window {
    let w = this.#windows.get(key);
    if (!w) {
      w = new Window();
      this.#windows.set(key, w);
    }
    return w;
  }

  admit(realmId: string, clientId: string, isBatch: boolean, now: number): Admission {
    const app = `${realmId}|${clientId}`;
    const refused = this.#refusal(realmId, app, isBatch, now);
    if (refused && !this.policy.countThrottled) return { ok: false, reason: refused };
    this.#window(`m|${realmId}`).add(now);
    this.#window(`s|${app}`).add(now);
    if (isBatch) {
      this.#window(`ba|${app}`).add(now);
      this.#window(`br|${realmId}`).add(now);
    }
    if (refused) return { ok: false, reason: refused };
    this.#inFlight.set(app, (this.#inFlight.get(app) ?? 0) + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        const n = (this.#inFlight.get(app) ?? 1) - 1;
        if (n <= 0) this.#inFlight.delete(app);
        else this.#inFlight.set(app, n);
      },
    };
  }

  #refusal(realmId: string, app: string, isBatch: boolean, now: number): ThrottleReason | undefined {
    const p = this.policy;
    if (!p.enabled) return undefined;
    if (this.#window(`m|${realmId}`).count(now, 60_000) >= p.perMinutePerRealm) return 'per-minute';
    if (this.#window(`s|${app}`).count(now, 1_000) >= p.perSecondPerRealmApp) return 'per-second';
    if ((this.#inFlight.get(app) ?? 0) >= p.concurrentPerRealmApp) return 'concurrent';
    if (isBatch && this.#window(`ba|${app}`).count(now, 60_000) >= p.batchPerMinutePerRealmApp)
      return 'batch-per-minute-app';
    if (isBatch && this.#window(`br|${realmId}`).count(now, 60_000) >= p.batchPerMinutePerRealm)
      return 'batch-per-minute-realm';
    return undefined;
  }

  /** Requests of a realm (all apps) admitted and not yet answered. */
  inFlight(realmId: string): number {
    let n = 0;
    for (const [key, count] of this.#inFlight) if (key.startsWith(`${realmId}|`)) n += count;
    return n;
  }

  reset(): void {
    this.#windows.clear();
  }
}
