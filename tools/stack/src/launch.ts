import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Launched {
  name: string;
  child: ChildProcess;
  /** Resolves with the port from the service's 'service started' line, or rejects if it exits first. */
  started: Promise<number>;
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

type Print = (line: string) => void;

const LEVEL_COLOUR: Record<string, string> = {
  fatal: '31',
  error: '31',
  warn: '33',
  info: '32',
  debug: '90',
};

/** One line per log record, `[service] level message {fields}`, so four services stay readable in one terminal. */
function render(name: string, raw: string, colour: boolean): string {
  try {
    const {
      level = 'info',
      msg = '',
      time: _t,
      service: _s,
      ...fields
    } = JSON.parse(raw) as Record<string, unknown>;
    const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    const lvl = colour ? `\u001b[${LEVEL_COLOUR[String(level)] ?? '0'}m${level}\u001b[0m` : String(level);
    return `[${name}] ${lvl} ${msg}${rest}`;
  } catch {
    return `[${name}] ${raw}`;
  }
}

/** Where a service's log goes: always its file; the terminal too when streaming, else its warnings only. */
export interface LogSink {
  file: string;
  stream: boolean;
}

const LOUD = /"level":"(warn|error|fatal)"/;

/**
 * Warnings reach the terminal, but not as a flood: one of each message per service every 5 s, the rest
 * counted ("… 31 more like it in the log"). Errors always show.
 */
function quieted(print: Print): (name: string, raw: string, line: string) => void {
  const last = new Map<string, { at: number; held: number }>();
  return (name, raw, line) => {
    const msg = /"msg":"([^"]*)"/.exec(raw)?.[1] ?? '';
    const warn = /"level":"warn"/.test(raw);
    const seen = last.get(msg);
    const now = Date.now();
    if (warn && seen && now - seen.at < 5_000) {
      seen.held++;
      return;
    }
    if (seen && seen.held > 0) print(`[${name}] … ${seen.held} more "${msg}" in the log`);
    last.set(msg, { at: now, held: 0 });
    print(line);
  };
}

export function launch(
  name: string,
  {
    entry,
    preload,
    args = [],
    env,
  }: { entry: string; preload?: string; args?: string[]; env: NodeJS.ProcessEnv },
  print: Print,
  colour: boolean,
  logs: LogSink,
): Launched {
  const file = createWriteStream(logs.file, { flags: 'a' });
  const loud = quieted(print);
  const child = spawn(process.execPath, [...(preload ? ['--import', preload] : []), entry, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  // After the pipes are drained, not at exit: the last lines may still be on their way.
  child.once('close', () => file.end());
  const started = new Promise<number>((resolve, reject) => {
    const onLine = (line: string) => {
      file.write(`${line}\n`);
      if (logs.stream) print(render(name, line, colour));
      else if (LOUD.test(line)) loud(name, line, render(name, line, colour));
      if (line.includes('"msg":"service started"')) {
        resolve(Number((JSON.parse(line) as { port: number }).port));
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', (line) => {
      file.write(`${line}\n`);
      print(`[${name}] ${line}`);
    });
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before it started`)));
  });
  return {
    name,
    child,
    started,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
