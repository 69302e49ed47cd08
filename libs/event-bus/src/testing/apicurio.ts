import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '@qbo/testkit';

/** Apicurio Registry 3.3.x, runnable from Maven Central's `all` tarball (a Quarkus fast-jar; in-memory H2 storage). */
export const APICURIO_VERSION = '3.3.3';

export interface ApicurioOptions {
  port?: number;
  managementPort?: number;
  /** Where the tarball is unpacked; gitignored. */
  dir?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface RunningApicurio {
  /** The Confluent-compatible API, for @kafkajs/confluent-schema-registry. */
  url: string;
  /** False when a registry already answered on the port and was reused. */
  startedHere: boolean;
  stop(): Promise<void>;
}

function installedJdks(): string[] {
  const root = '/usr/lib/jvm';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .reverse()
    .map((name) => join(root, name, 'bin', 'java'))
    .filter((java) => existsSync(java));
}

/** Apicurio 3.3 is compiled for Java 21; this machine's default Java may be older. */
function findJava(): string {
  const candidates = [
    process.env.APICURIO_JAVA,
    process.env.JAVA21_HOME && join(process.env.JAVA21_HOME, 'bin', 'java'),
    // Every JDK installed the Debian way, newest name first (temurin-25…, java-21-openjdk…).
    ...installedJdks(),
    process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin', 'java'),
    'java',
  ].filter((c): c is string => Boolean(c));
  for (const java of candidates) {
    const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
    const major = Number(/version "(\d+)/.exec(probe.stderr ?? '')?.[1] ?? 0);
    if (major >= 21) return java;
  }
  throw new Error('Apicurio Registry 3.3 needs Java 21 or newer; set APICURIO_JAVA to such a java binary');
}

/** Fetches the distribution with Maven once (it stays in ~/.m2 and in `dir`). */
function ensureDistribution(dir: string, log: (line: string) => void): string {
  const app = join(dir, 'app');
  const jar = join(app, 'quarkus-run.jar');
  if (existsSync(jar)) return jar;
  mkdirSync(app, { recursive: true });
  log(`fetching Apicurio Registry ${APICURIO_VERSION} with Maven (first run only, ~160 MB)`);
  const artifact = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${dir}`],
    {
      stdio: 'inherit',
    },
  );
  if (mvn.status !== 0) throw new Error(`mvn dependency:copy of ${artifact} failed`);
  const tar = spawnSync(
    'tar',
    ['-xzf', join(dir, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`), '-C', app],
    {
      stdio: 'inherit',
    },
  );
  if (tar.status !== 0 || !existsSync(jar)) throw new Error('unpacking the Apicurio distribution failed');
  return jar;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts a real Apicurio Registry (in-memory storage, global compatibility BACKWARD so the Confluent client's
 * compatibility check agrees) on 127.0.0.1, or reuses one already answering on the port.
 */
export async function startApicurio({
  port = 29480,
  managementPort = 29481,
  dir = join(repoRoot(), '.local', 'apicurio'),
  readyTimeoutMs = 120_000,
  log = () => undefined,
}: ApicurioOptions = {}): Promise<RunningApicurio> {
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  if (await answers(url)) return { url, startedHere: false, stop: async () => undefined };

  const jar = ensureDistribution(dir, log);
  const out = openSync(join(dir, 'registry.log'), 'a');
  const child: ChildProcess = spawn(
    findJava(),
    [
      '-Xmx384m',
      '-XX:+UseSerialGC',
      `-Dquarkus.http.port=${port}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.management.port=${managementPort}`,
      '-Dquarkus.management.host=127.0.0.1',
      '-Dapicurio.rules.global.compatibility=BACKWARD',
      '-jar',
      jar,
    ],
    { stdio: ['ignore', out, out] },
  );
  const exited = once(child, 'exit');
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = readFileSync(join(dir, 'registry.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`Apicurio Registry did not start at ${url}:\n${tail}`);
    }
    await sleep(500);
  }
  log(`Apicurio Registry ready at ${url}`);
  return {
    url,
    startedHere: true,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
