import type { ThrottleReason } from './limits/rate-limiter.js';

export interface EndpointCount {
  calls: number;
  statuses: Record<string, number>;
  throttled: Partial<Record<ThrottleReason, number>>;
}

/** Calls per realm and endpoint, with their statuses, so tests can assert how much API a sync used. */
export class Counters {
  #byRealm = new Map<string, Map<string, EndpointCount>>();

  #entry(realmId: string | undefined, endpoint: string): EndpointCount {
    const realm = realmId ?? '-';
    let endpoints = this.#byRealm.get(realm);
    if (!endpoints) {
      endpoints = new Map();
      this.#byRealm.set(realm, endpoints);
    }
    let entry = endpoints.get(endpoint);
    if (!entry) {
      entry = { calls: 0, statuses: {}, throttled: {} };
      endpoints.set(endpoint, entry);
    }
    return entry;
  }

  record(realmId: string | undefined, endpoint: string, status: number | 'dropped'): void {
    const entry = this.#entry(realmId, endpoint);
    entry.calls++;
    const key = String(status);
    entry.statuses[key] = (entry.statuses[key] ?? 0) + 1;
  }

  throttled(realmId: string, endpoint: string, reason: ThrottleReason): void {
    const entry = this.#entry(realmId, endpoint);
    entry.throttled[reason] = (entry.throttled[reason] ?? 0) + 1;
  }

  snapshot(): Record<string, Record<string, EndpointCount>> {
    return Object.fromEntries(
      [...this.#byRealm].map(([realm, endpoints]) => [realm, Object.fromEntries(endpoints)]),
    );
  }

  reset(): void {
    this.#byRealm = new Map();
  }
}
