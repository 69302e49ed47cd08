import type { Logger } from 'pino';
import { phase, type ShutdownStep } from './shutdown.js';

export interface PeriodicJob {
  /** Names the job's shutdown step and its log lines. */
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

/**
 * Runs a housekeeping job every interval (the first time one interval after the start) and registers its stop
 * with the consumers, so it never runs into the database's close. A run still going when the next is due is
 * not doubled; a failed run is logged and the next one tries again.
 */
export function runPeriodically(
  { log, onShutdown }: { log: Logger; onShutdown(step: ShutdownStep): void },
  { name, everyMs, run }: PeriodicJob,
): void {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= run()
      .then(
        () => undefined,
        (err: unknown) => log.warn({ err, job: name }, 'periodic job failed'),
      )
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  timer.unref();
  onShutdown({
    name,
    phase: phase.consumers,
    run: async () => {
      clearInterval(timer);
      await running;
    },
  });
}
