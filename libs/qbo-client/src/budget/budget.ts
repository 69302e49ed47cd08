import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BudgetReason, BudgetStore, CallKind } from './store.js';

export interface Permit {
  /** How long the call waited for budget, in ms. */
  readonly waitedMs: number;
  /**
   * Gives the in-flight slot back. `abandoned` keeps it until its lease ends: after a client-side timeout
   * or cancel the request may still be running at Intuit and still count there.
   */
  release(outcome?: 'done' | 'abandoned'): void;
}

export interface Budget {
  /** Waits (bounded) until the realm's limits admit one more call, then holds it. */
  acquire(realmId: string, kind: CallKind, signal?: AbortSignal): Promise<Permit>;
  /** Holds back every replica's calls to the realm, as Intuit advises after a 429. */
  pause(realmId: string, ms: number): Promise<void>;
}

/** The budget had no room for the call within the wait bound. */
export class BudgetExhaustedError extends Error {
  readonly reason: BudgetReason;
  readonly waitedMs: number;

  constructor(reason: BudgetReason, waitedMs: number) {
    super(`no request budget for this company within ${waitedMs} ms (${reason})`);
    this.name = 'BudgetExhaustedError';
    this.reason = reason;
    this.waitedMs = waitedMs;
  }
}

export interface BudgetOptions {
  store: BudgetStore;
  /** The longest a call waits for budget before failing with a rate_limit error. */
  maxWaitMs?: number;
  /** How often a call waiting for an in-flight slot asks again; slots free at unknown times. */
  pollMs?: number;
  now?: () => number;
  newSlotId?: () => string;
  random?: () => number;
  /** Reports a slot release that failed; the slot then frees when its lease ends. */
  onReleaseError?: (err: unknown) => void;
}

/**
 * The waiting half of the budget, over any store. Calls for one realm queue in this process and only the
 * head asks the store, so a hundred waiting calls cost one store round trip per poll, keep their order, and
 * calls for another realm never wait behind them.
 */
export function createBudget({
  store,
  maxWaitMs = 120_000,
  pollMs = 25,
  now = Date.now,
  newSlotId = randomUUID,
  random = Math.random,
  onReleaseError = () => undefined,
}: BudgetOptions): Budget {
  const lanes = new Map<string, Promise<void>>();

  async function admit(realmId: string, kind: CallKind, started: number, signal?: AbortSignal) {
    for (;;) {
      const slotId = newSlotId();
      const remaining = started + maxWaitMs - now();
      const admission = await store.tryAcquire(realmId, kind, slotId);
      if (admission.ok) return slotId;
      // In-flight slots free whenever a call ends, so those waits poll until the bound; a window's wait
      // ends at a known time, so a wait past the bound fails now rather than sitting it out.
      const polling = admission.reason === 'concurrent';
      if (polling ? remaining <= 0 : admission.retryInMs >= remaining) {
        throw new BudgetExhaustedError(admission.reason, now() - started);
      }
      const wait = polling ? Math.min(admission.retryInMs, pollMs, remaining) : admission.retryInMs;
      // A little jitter keeps replicas' polls from landing on the store at the same instant.
      await sleep(wait + Math.floor(random() * 5), undefined, signal ? { signal } : undefined).catch(
        (err: unknown) => {
          throw signal?.aborted ? signal.reason : err;
        },
      );
    }
  }

  return {
    async acquire(realmId, kind, signal) {
      const started = now();
      const lane = `${realmId}|${kind}`;
      const ahead = lanes.get(lane) ?? Promise.resolve();
      let leave!: () => void;
      const turn = new Promise<void>((resolve) => {
        leave = resolve;
      });
      const tail = ahead.then(() => turn);
      lanes.set(lane, tail);
      try {
        await waitBounded(ahead, maxWaitMs, signal);
        const slotId = await admit(realmId, kind, started, signal);
        const waitedMs = now() - started;
        let released = false;
        return {
          waitedMs,
          release(outcome = 'done') {
            if (released || outcome === 'abandoned') return;
            released = true;
            store.release(realmId, slotId).catch(onReleaseError);
          },
        };
      } finally {
        leave();
        if (lanes.get(lane) === tail) lanes.delete(lane);
      }
    },
    pause: (realmId, ms) => store.pause(realmId, Math.ceil(ms)),
  };
}

async function waitBounded(ahead: Promise<void>, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
  const timer = new AbortController();
  const stop = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
  try {
    await Promise.race([
      ahead,
      sleep(maxWaitMs, undefined, { signal: stop }).then(() => {
        throw new BudgetExhaustedError('concurrent', maxWaitMs);
      }),
    ]);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  } finally {
    timer.abort();
  }
}
