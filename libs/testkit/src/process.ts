import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { waitFor } from './wait.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface ServiceProcess {
  child: ChildProcess;
  /** Every JSON line the process wrote to stdout, parsed, in order. */
  logs: LogLine[];
  /** Raw stdout and stderr text, for assertions that no secret appears anywhere. */
  output(): string;
  port: number | undefined;
  url: string;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  /** The compiled entry point, e.g. `dist/main.js`. */
  entry: string;
  /** A module loaded with `--import` first (the service's telemetry bootstrap). */
  preload?: string;
  env: Record<string, string | undefined>;
  /** Wait for the 'service started' log line; false for processes expected to fail. */
  waitForStart?: boolean;
  startTimeoutMs?: number;
}

/** Runs a service as its own Node process with the same Node binary as the tests, as production would. */
export async function startProcess({
  entry,
  preload,
  env,
  waitForStart = true,
  startTimeoutMs = 30_000,
}: StartOptions): Promise<ServiceProcess> {
  const args = [...(preload ? ['--import', preload] : []), entry];
  const childEnv = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined),
  );
  const child = spawn(process.execPath, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  let text = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    text += `${line}\n`;
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line, level: 'raw' });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  let stopping = false;
  const exited = once(child, 'exit').then(([code, signal]) => {
    // A service that ends on its own under a test is the likeliest cause of whatever fails next (a refused
    // connection, a timeout): its last words go to the test's output, where a CI log keeps them.
    if (!stopping) {
      process.stderr.write(
        `${entry} exited on its own (${code ?? signal}); its last output:\n${text.slice(-8_000)}\n`,
      );
    }
    return (code ?? signal) as number | string;
  });

  const proc: ServiceProcess = {
    child,
    logs,
    output: () => text,
    port: undefined,
    get url() {
      return `http://127.0.0.1:${this.port}`;
    },
    waitForLog: (match, timeoutMs = 15_000) =>
      waitFor(() => logs.find(match), { timeoutMs, what: 'a matching log line' }).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; output so far:\n${text}`);
      }),
    exited,
    async stop(signal = 'SIGTERM') {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (waitForStart) {
    const started = await Promise.race([
      proc.waitForLog((l) => l.msg === 'service started', startTimeoutMs),
      exited.then((code) => {
        throw new Error(`process exited (${code}) before it started; output:\n${text}`);
      }),
    ]);
    proc.port = Number(started.port);
  }
  return proc;
}
