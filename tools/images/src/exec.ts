import { spawn } from 'node:child_process';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end and captures what it printed. `input` is written to its stdin; `echo` streams its
 * output as it comes (long builds), prefixed with `[label]`.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; echo?: string } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const echo = (chunk: Buffer) => {
      if (options.echo) process.stdout.write(prefix(options.echo, chunk.toString()));
    };
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      echo(c);
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      echo(c);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

const prefix = (label: string, text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => `[${label}] ${line}\n`)
    .join('');

/** Like `run`, but a non-zero exit is an error that quotes the command and the end of its output. */
export async function must(
  command: string,
  args: readonly string[],
  options: Parameters<typeof run>[2] = {},
): Promise<string> {
  const ran = await run(command, args, options);
  if (ran.code !== 0) {
    const tail = `${ran.stdout}\n${ran.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.slice(0, 4).join(' ')} … exited ${ran.code}:\n${tail}`);
  }
  return ran.stdout;
}
