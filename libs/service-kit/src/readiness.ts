export type Check = (signal: AbortSignal) => Promise<void>;

export interface CheckResult {
  status: 'ok' | 'failing';
  /** A short reason without hostnames or stack traces. */
  reason?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'failing' | 'stopping';
  checks: Record<string, CheckResult>;
}

export interface Readiness {
  report(): Promise<ReadinessReport>;
  markStopping(): void;
}

export interface ReadinessOptions {
  checks: Record<string, Check>;
  timeoutMs: number;
  /** Probes arrive every few seconds from every kubelet and load balancer; a short cache keeps them cheap. */
  cacheMs?: number;
  now?: () => number;
}

const reasonOf = (err: unknown): string => {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.name : 'failed';
};

export function createReadiness({
  checks,
  timeoutMs,
  cacheMs = 2_000,
  now = Date.now,
}: ReadinessOptions): Readiness {
  let stopping = false;
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;

  async function evaluate(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          await check(AbortSignal.timeout(timeoutMs));
          return [name, { status: 'ok' }];
        } catch (err) {
          return [name, { status: 'failing', reason: reasonOf(err) }];
        }
      }),
    );
    const results = Object.fromEntries(entries);
    return { status: entries.every(([, r]) => r.status === 'ok') ? 'ok' : 'failing', checks: results };
  }

  return {
    async report() {
      if (stopping) return { status: 'stopping', checks: {} };
      if (!cached || now() - cached.at >= cacheMs) cached = { at: now(), report: evaluate() };
      return cached.report;
    },
    markStopping() {
      stopping = true;
    },
  };
}

/** Races a check against its abort signal so a hung dependency reads as 'timed out', not a hung probe. */
export function withSignal<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
