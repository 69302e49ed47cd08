import type { Logger } from 'pino';

/**
 * When a step runs: lower first, and steps of one phase in the order added. Resources open in the reverse
 * order, so a step can be added as soon as its resource exists, and a half-started service still closes
 * what it opened.
 */
export const phase = {
  /** Stop taking traffic: readiness fails, the HTTP server closes. */
  ingress: 10,
  /** Stop consuming: consumers leave their groups after the in-flight message. */
  consumers: 20,
  /** Drain what was accepted: outbox relays, producers. */
  producers: 30,
  /** Close connections: Kafka admin, database pool. */
  connections: 40,
  /** Flush telemetry last, so the steps above are still traced. */
  telemetry: 50,
} as const;

export interface ShutdownStep {
  name: string;
  phase: number;
  run: () => Promise<void> | void;
}

export interface ShutdownOptions {
  log: Logger;
  /** The whole sequence must finish within this; past it the process exits 1 (Kubernetes would SIGKILL anyway). */
  timeoutMs: number;
  exit?: (code: number) => void;
}

export interface Shutdown {
  add(step: ShutdownStep): void;
  readonly stopping: boolean;
  run(reason: string, exitCode?: number): Promise<void>;
  /** SIGTERM/SIGINT stop cleanly; an uncaught error or unhandled rejection stops with exit code 1. */
  installProcessHandlers(): void;
}

/**
 * One idempotent shutdown: each step is logged, timed and isolated (a failing step is logged and the next
 * still runs), and a hard deadline guarantees the process ends.
 */
export function createShutdown({
  log,
  timeoutMs,
  exit = (code) => process.exit(code),
}: ShutdownOptions): Shutdown {
  const steps: ShutdownStep[] = [];
  let running: Promise<void> | undefined;

  async function sequence(reason: string, exitCode: number): Promise<void> {
    const started = Date.now();
    steps.sort((a, b) => a.phase - b.phase);
    log.info({ reason, timeoutMs, steps: steps.map((s) => s.name) }, 'shutdown started');
    const deadline = setTimeout(() => {
      log.error({ reason, timeoutMs }, 'shutdown deadline passed, exiting');
      exit(1);
    }, timeoutMs);
    deadline.unref();
    let failed = false;
    for (const step of steps) {
      const t0 = Date.now();
      try {
        await step.run();
        log.info({ step: step.name, ms: Date.now() - t0 }, 'shutdown step done');
      } catch (err) {
        failed = true;
        log.error({ step: step.name, ms: Date.now() - t0, err }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
    const code = failed ? 1 : exitCode;
    log.info({ reason, ms: Date.now() - started, exitCode: code }, 'shutdown complete');
    // pino writes stdout asynchronously; flush before the process goes.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    exit(code);
  }

  return {
    add(step) {
      steps.push(step);
    },
    get stopping() {
      return running !== undefined;
    },
    run(reason, exitCode = 0) {
      running ??= sequence(reason, exitCode);
      return running;
    },
    installProcessHandlers() {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void this.run(signal));
      }
      process.on('uncaughtException', (err) => {
        log.fatal({ err }, 'uncaught exception');
        void this.run('uncaughtException', 1);
      });
      process.on('unhandledRejection', (err) => {
        log.fatal({ err }, 'unhandled rejection');
        void this.run('unhandledRejection', 1);
      });
    },
  };
}
