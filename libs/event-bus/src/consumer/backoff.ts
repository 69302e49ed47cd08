export interface RetryPolicy {
  /** Handler runs per message, the first included, before it is dead-lettered. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, initialDelayMs: 200, maxDelayMs: 10_000 };

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreads replicas' retries apart. */
export function backoffDelay(
  policy: RetryPolicy,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failedAttempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Waits `ms`, calling `beat` every few seconds so the group does not evict a member that is only backing off.
 * Resolves false when `signal` aborts first.
 */
export async function pause(
  ms: number,
  beat: () => Promise<void>,
  signal: AbortSignal,
  beatEveryMs = 3_000,
): Promise<boolean> {
  const until = Date.now() + ms;
  while (!signal.aborted) {
    const left = until - Date.now();
    if (left <= 0) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(left, beatEveryMs));
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
    if (!signal.aborted) await beat();
  }
  return false;
}
