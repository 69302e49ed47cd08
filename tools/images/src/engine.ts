import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { must, run } from './exec.js';

/** The client speaks to the engine over its default socket; the classic builder only (see README). */
export const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_BUILDKIT: '0' });

export const docker = (args: readonly string[], options: Parameters<typeof must>[2] = {}) =>
  must('docker', args, { env: dockerEnv(), ...options });

const answers = async () => (await run('docker', ['info', '--format', '{{.ServerVersion}}'])).code === 0;

/** Debian's packages this needs, by the command each provides. */
const PACKAGES: ReadonlyArray<[command: string, pkg: string]> = [
  ['/usr/sbin/dockerd', 'docker.io'],
  ['/usr/bin/docker-compose', 'docker-compose'],
  ['/usr/sbin/debootstrap', 'debootstrap'],
];

/** Installs from Debian what is missing (as root: apt needs it). */
export async function ensurePackages(log: (line: string) => void): Promise<void> {
  const missing = PACKAGES.filter(([command]) => !existsSync(command)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${missing.join(', ')} missing; installing them needs root (apt-get install ${missing.join(' ')})`,
    );
  }
  log(`installing ${missing.join(', ')} from Debian`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await must('apt-get', ['update'], { env });
  await must('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}

export interface Engine {
  /** True when this process started the engine (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * A Docker engine that answers: the one running, or one started here. This machine's engine runs as root
 * without iptables or a bridge, so every container and build uses the host's network.
 */
export async function ensureEngine(logFile: string, log: (line: string) => void): Promise<Engine> {
  await ensurePackages(log);
  if (await answers()) return { started: false, stop: async () => {} };
  await mkdir(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const daemon = spawn(
    '/usr/sbin/dockerd',
    ['--storage-driver=overlay2', '--iptables=false', '--ip-masq=false', '--bridge=none'],
    { detached: true, stdio: ['ignore', out, out] },
  );
  log(`started dockerd (pid ${daemon.pid}; log ${logFile})`);
  const deadline = Date.now() + 60_000;
  while (!(await answers())) {
    if (daemon.exitCode !== null) throw new Error(`dockerd exited (${daemon.exitCode}); see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`dockerd did not answer within 60 s; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    started: true,
    async stop() {
      if (daemon.exitCode !== null) return;
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
      log('stopped dockerd');
    },
  };
}
