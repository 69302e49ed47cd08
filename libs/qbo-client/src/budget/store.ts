/** What one call asks the budget for: a plain request, or a batch (which also counts against batch limits). */
export type CallKind = 'request' | 'batch';

/** Which limit held a call back. */
export type BudgetReason = 'paused' | 'per-minute' | 'per-second' | 'concurrent' | 'batch-per-minute';

export type Admission = { ok: true } | { ok: false; reason: BudgetReason; retryInMs: number };

/**
 * The shared state behind the budget, one per fleet. `tryAcquire` is atomic across every limit: either
 * the call is counted in all windows and holds an in-flight slot, or nothing changes and the answer says
 * how long until the limit that held it back could let it through.
 */
export interface BudgetStore {
  tryAcquire(realmId: string, kind: CallKind, slotId: string): Promise<Admission>;
  /** Frees the in-flight slot now; the windows keep counting the request. */
  release(realmId: string, slotId: string): Promise<void>;
  /** Admits nothing for this realm for `ms` (extends a shorter pause, never shortens a longer one). */
  pause(realmId: string, ms: number): Promise<void>;
}
