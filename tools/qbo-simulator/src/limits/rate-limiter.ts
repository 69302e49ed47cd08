/** Intuit's per-realm limits (qbo-api-facts §6.3), each switchable for benchmarks. */
export interface LimitPolicy {
  enabled: boolean;
  perMinutePerRealm: number;
  perSecondPerRealmApp: number;
  /** The older policy: at most this many requests in flight per realm and app. */
  concurrentPerRealmApp: number;
  batchPerMinutePerRealmApp: number;
  batchPerMinutePerRealm: number;
}

export const DEFAULT_LIMITS: LimitPolicy = {
  enabled: true,
  perMinutePerRealm: 500,
  perSecondPerRealmApp: 10,
  concurrentPerRealmApp: 10,
  batchPerMinutePerRealmApp: 40,
  batchPerMinutePerRealm: 120,
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
 * real time. A throttled request is not counted, so the 501st request in a minute fails and the next
 * minute starts clean.
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
    const p = this.policy;
    const app = `${realmId}|${clientId}`;
    if (p.enabled) {
      if (this.#window(`m|${realmId}`).count(now, 60_000) >= p.perMinutePerRealm)
        return { ok: false, reason: 'per-minute' };
      if (this.#window(`s|${app}`).count(now, 1_000) >= p.perSecondPerRealmApp)
        return { ok: false, reason: 'per-second' };
      if ((this.#inFlight.get(app) ?? 0) >= p.concurrentPerRealmApp)
        return { ok: false, reason: 'concurrent' };
      if (isBatch) {
        if (this.#window(`ba|${app}`).count(now, 60_000) >= p.batchPerMinutePerRealmApp) {
          return { ok: false, reason: 'batch-per-minute-app' };
        }
        if (this.#window(`br|${realmId}`).count(now, 60_000) >= p.batchPerMinutePerRealm) {
          return { ok: false, reason: 'batch-per-minute-realm' };
        }
      }
    }
    this.#window(`m|${realmId}`).add(now);
    this.#window(`s|${app}`).add(now);
    if (isBatch) {
      this.#window(`ba|${app}`).add(now);
      this.#window(`br|${realmId}`).add(now);
    }
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
