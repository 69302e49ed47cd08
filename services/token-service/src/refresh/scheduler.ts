import type { Logger } from '@qbo/service-kit';
import { errorLabel } from './errors.js';
import type { TokenManager } from './token-manager.js';

export interface Scheduler {
  start(): void;
  /** Lets the batch in hand finish, then stops. */
  stop(): Promise<void>;
  /** Runs one pass now (tests and benchmarks); resolves with how many connections it refreshed. */
  tick(): Promise<number>;
}

/**
 * Refreshes due connections every interval. Several replicas may pick the same ids: each refresh re-reads
 * its row under `FOR UPDATE SKIP LOCKED` and re-checks that it is still due, so a row another replica holds
 * or has just refreshed is skipped, never refreshed twice.
 */
export function createScheduler({
  tokens,
  log,
  intervalMs,
  batchSize,
  concurrency,
}: {
  tokens: TokenManager;
  log: Logger;
  intervalMs: number;
  batchSize: number;
  concurrency: number;
}): Scheduler {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  /**
   * A paused app's probe, deferred shreds' revokes and the re-seal of data keys under retired ring keys; a
   * failure of any does not stop the refreshes.
   */
  async function chores(): Promise<number> {
    let refreshed = 0;
    try {
      if ((await tokens.probeApp()) === 'token') refreshed++;
    } catch (err) {
      log.warn({ errorCode: errorLabel(err) }, 'probing the paused app failed');
    }
    try {
      await tokens.retryRevokes(batchSize);
    } catch (err) {
      log.warn({ errorCode: errorLabel(err) }, 'retrying deferred revokes failed');
    }
    try {
      await tokens.resealRetired(batchSize);
    } catch (err) {
      log.warn({ errorCode: errorLabel(err) }, 're-sealing data keys failed');
    }
    return refreshed;
  }

  async function pass(): Promise<number> {
    let refreshed = await chores();
    for (;;) {
      const ids = await tokens.due(batchSize);
      if (ids.length === 0 || stopped) return refreshed;
      let progressed = 0;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
          while (next < ids.length && !stopped) {
            const id = ids[next++] as string;
            try {
              const kind = await tokens.refreshDue(id);
              if (kind === 'token') refreshed++;
              if (kind !== 'skipped') progressed++;
            } catch (err) {
              // Not an answer from Intuit (those are recorded in the row): without moving the row it would
              // stay the oldest due one and, with enough like it, starve every healthy row behind them.
              try {
                if (await tokens.deferAfterError(id, err)) progressed++;
              } catch (deferErr) {
                log.error(
                  { connectionId: id, errorCode: errorLabel(deferErr) },
                  'deferring a failed refresh failed',
                );
              }
            }
          }
        }),
      );
      // Only rows this pass could act on justify another round at once; the rest wait for the next tick.
      if (progressed === 0 || ids.length < batchSize) return refreshed;
    }
  }

  const tick = () => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = () => {
    timer = setTimeout(() => {
      tick()
        .catch((err: unknown) => log.warn({ err }, 'scheduler pass failed'))
        .finally(() => {
          if (!stopped) loop();
        });
    }, intervalMs);
    timer.unref();
  };

  return {
    start: () => {
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
    tick,
  };
}
