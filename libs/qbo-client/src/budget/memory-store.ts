import type { BudgetLimits } from './limits.js';
import type { Admission, BudgetStore, CallKind } from './store.js';

/**
 * The budget store in this process's memory, with the Redis store's exact semantics: for one process
 * (development, a single replica, unit tests). A fleet shares the Redis store.
 */
export function createMemoryBudgetStore(limits: BudgetLimits, now: () => number = Date.now): BudgetStore {
  const realms = new Map<
    string,
    { minute: number[]; second: number[]; batch: number[]; leases: Map<string, number>; pausedUntil: number }
  >();
  const realm = (id: string) => {
    let r = realms.get(id);
    if (!r) {
      r = { minute: [], second: [], batch: [], leases: new Map(), pausedUntil: 0 };
      realms.set(id, r);
    }
    return r;
  };
  /** ms until the window admits one more, 0 when it already does; drops entries that left the window. */
  const full = (log: number[], limit: number, span: number, at: number) => {
    while (log.length > 0 && (log[0] as number) <= at - span) log.shift();
    if (log.length < limit) return 0;
    return Math.max(1, Math.ceil((log[log.length - limit] as number) + span - at));
  };

  return {
    async tryAcquire(realmId: string, kind: CallKind, slotId: string): Promise<Admission> {
      const r = realm(realmId);
      const at = now();
      if (r.pausedUntil > at) return { ok: false, reason: 'paused', retryInMs: r.pausedUntil - at };
      const { marginMs: m } = limits;
      let wait = full(r.minute, limits.perMinute, limits.minuteMs + m, at);
      if (wait > 0) return { ok: false, reason: 'per-minute', retryInMs: wait };
      wait = full(r.second, limits.perSecond, limits.secondMs + m, at);
      if (wait > 0) return { ok: false, reason: 'per-second', retryInMs: wait };
      if (kind === 'batch') {
        wait = full(r.batch, limits.batchPerMinute, limits.minuteMs + m, at);
        if (wait > 0) return { ok: false, reason: 'batch-per-minute', retryInMs: wait };
      }
      for (const [slot, expires] of r.leases) if (expires <= at) r.leases.delete(slot);
      if (r.leases.size >= limits.concurrent) {
        const soonest = Math.min(...r.leases.values());
        return { ok: false, reason: 'concurrent', retryInMs: Math.max(1, soonest - at) };
      }
      r.leases.set(slotId, at + limits.leaseMs);
      r.minute.push(at);
      r.second.push(at);
      if (kind === 'batch') r.batch.push(at);
      return { ok: true };
    },
    async release(realmId, slotId) {
      realm(realmId).leases.delete(slotId);
    },
    async pause(realmId, ms) {
      const r = realm(realmId);
      r.pausedUntil = Math.max(r.pausedUntil, now() + ms);
    },
  };
}
