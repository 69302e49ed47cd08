import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { repoRoot } from './paths.js';

/** Non-default ports, so a developer's own Kafka on 9092/9093 is left alone. */
export const DEFAULT_PORT = 39092;
export const DEFAULT_CONTROLLER_PORT = 39093;
/** Any fixed 22-character base64url id will do for a throwaway single-node cluster. */
const CLUSTER_ID = 'qbo-local-kafka-000001A';

export interface BrokerOptions {
  port?: number;
  controllerPort?: number;
  /** Where data, logs and the pid file live (gitignored). */
  runDir?: string;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Resolved {
  port: number;
  controllerPort: number;
  runDir: string;
  readyTimeoutMs: number;
  log: (line: string) => void;
  root: string;
}

const envNumber = (name: string): number | undefined => {
  const raw = process.env[name];
  return raw ? Number(raw) : undefined;
};

/** Options win; then KAFKA_PORT, KAFKA_CONTROLLER_PORT and KAFKA_RUN_DIR; then the defaults. */
export function resolve(options: BrokerOptions): Resolved {
  const root = repoRoot();
  return {
    port: options.port ?? envNumber('KAFKA_PORT') ?? DEFAULT_PORT,
    controllerPort: options.controllerPort ?? envNumber('KAFKA_CONTROLLER_PORT') ?? DEFAULT_CONTROLLER_PORT,
    runDir: options.runDir ?? process.env.KAFKA_RUN_DIR ?? join(root, '.local', 'kafka'),
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
    log: options.log ?? (() => undefined),
    root,
  };
}

export const brokerAddress = (options: BrokerOptions = {}): string => `127.0.0.1:${resolve(options).port}`;

const pidFile = (r: Resolved) => join(r.runDir, 'broker.pid');

function readPid(r: Resolved): number | undefined {
  if (!existsSync(pidFile(r))) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile(r), 'utf8'), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves the broker's jars with Maven once; re-resolves only when the pom changes. */
export function ensureJars(r: Resolved): string {
  const kafkaDir = join(r.root, 'infra', 'kafka');
  const libs = join(kafkaDir, 'target', 'libs');
  const stamp = join(libs, '.pom-sha256');
  const pomHash = createHash('sha256')
    .update(readFileSync(join(kafkaDir, 'pom.xml')))
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === pomHash) return libs;
  r.log('resolving Kafka broker jars with Maven (first run only)');
  const mvn = spawnSync('mvn', ['-B', '-q', '-f', join(kafkaDir, 'pom.xml'), 'package'], {
    stdio: 'inherit',
  });
  if (mvn.error) throw new Error(`cannot run mvn (${mvn.error.message}); Maven and Java 17+ are required`);
  if (mvn.status !== 0) throw new Error(`mvn package failed with exit code ${mvn.status}`);
  writeFileSync(stamp, pomHash);
  return libs;
}

export function jvmArgs(r: Resolved, libs: string): string[] {
  return [
    // Test suites create topics under fresh prefixes, thousands of partitions over a few runs; with a 512 MB
    // heap the old generation filled up and every full collection froze the broker for ~0.6 s. G1 keeps the
    // pauses short and the heap has room to grow.
    '-Xms256m',
    '-Xmx2g',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=50',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(r.root, 'infra', 'kafka', 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(r.runDir, 'logs')}`,
    '-cp',
    join(libs, '*'),
  ];
}

function writeServerProperties(r: Resolved): string {
  const template = readFileSync(join(r.root, 'infra', 'kafka', 'server.properties'), 'utf8');
  const file = join(r.runDir, 'server.properties');
  writeFileSync(
    file,
    template
      .replaceAll('@PORT@', String(r.port))
      .replaceAll('@CONTROLLER_PORT@', String(r.controllerPort))
      .replaceAll('@DATA_DIR@', join(r.runDir, 'data')),
  );
  return file;
}

/** How a client connects to a broker that is not plaintext and open: kafkajs's `ssl` and `sasl`. */
export type ClientSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** True when a broker at the address answers a metadata request. */
export async function answers(
  address: string,
  timeoutMs = 2_000,
  security: ClientSecurity = {},
): Promise<boolean> {
  const admin = new Kafka({
    ...security,
    clientId: 'local-kafka-probe',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export type Status = { state: 'running'; pid: number; address: string } | { state: 'stopped' };

export async function status(options: BrokerOptions = {}): Promise<Status> {
  const r = resolve(options);
  const pid = readPid(r);
  if (pid !== undefined && alive(pid) && (await answers(`127.0.0.1:${r.port}`))) {
    return { state: 'running', pid, address: `127.0.0.1:${r.port}` };
  }
  return { state: 'stopped' };
}

/**
 * Starts the broker and waits until it answers metadata requests. Harmless when it already runs; refuses
 * when something else holds the port.
 */
export async function start(
  options: BrokerOptions = {},
): Promise<{ address: string; pid: number; started: boolean }> {
  const r = resolve(options);
  const address = `127.0.0.1:${r.port}`;
  const existing = readPid(r);
  if (existing !== undefined && alive(existing)) {
    await waitUntilAnswering(r, address, existing);
    r.log(`Kafka already running at ${address} (pid ${existing})`);
    return { address, pid: existing, started: false };
  }
  if (await answers(address, 1_000)) {
    throw new Error(
      `port ${r.port} already serves a Kafka broker that this project did not start; stop it or set KAFKA_PORT`,
    );
  }

  const libs = ensureJars(r);
  mkdirSync(join(r.runDir, 'logs'), { recursive: true });
  const properties = writeServerProperties(r);
  const pid = await launchBroker(r, libs, { properties, formatArgs: [], probe: (a) => answers(a) });
  return { address, pid, started: true };
}

/** What differs between the plain broker and the secured one: its properties, format options and probe. */
export interface LaunchSetup {
  properties: string;
  formatArgs: readonly string[];
  probe: (address: string) => Promise<boolean>;
}

/** Formats KRaft storage (once), starts the broker detached, and waits until the probe answers. */
export async function launchBroker(r: Resolved, libs: string, setup: LaunchSetup): Promise<number> {
  const { properties, formatArgs, probe } = setup;
  const address = `127.0.0.1:${r.port}`;
  const format = spawnSync(
    'java',
    [
      ...jvmArgs(r, libs),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      CLUSTER_ID,
      '-c',
      properties,
      '--ignore-formatted',
      ...formatArgs,
    ],
    { encoding: 'utf8' },
  );
  if (format.error) throw new Error(`cannot run java (${format.error.message}); Java 17+ is required`);
  if (format.status !== 0) throw new Error(`formatting KRaft storage failed:\n${format.stderr}`);

  const out = openSync(join(r.runDir, 'broker.log'), 'a');
  const child = spawn('java', [...jvmArgs(r, libs), 'kafka.Kafka', properties], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  if (child.pid === undefined) throw new Error('the broker process did not start');
  child.unref();
  writeFileSync(pidFile(r), String(child.pid));
  r.log(`Kafka starting at ${address} (pid ${child.pid}), logs in ${join(r.runDir, 'broker.log')}`);
  await waitUntilAnswering(r, address, child.pid, probe);
  r.log(`Kafka ready at ${address}`);
  return child.pid;
}

async function waitUntilAnswering(
  r: Resolved,
  address: string,
  pid: number,
  probe: (address: string) => Promise<boolean> = (a) => answers(a),
): Promise<void> {
  const deadline = Date.now() + r.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) {
      const log = existsSync(join(r.runDir, 'broker.log'))
        ? readFileSync(join(r.runDir, 'broker.log'), 'utf8')
        : '';
      throw new Error(
        `the broker exited during start-up; last log lines:\n${log.split('\n').slice(-20).join('\n')}`,
      );
    }
    if (await probe(address)) return;
    await sleep(500);
  }
  throw new Error(`the broker did not answer at ${address} within ${r.readyTimeoutMs} ms`);
}

/** Stops the broker with SIGTERM (a controlled shutdown), SIGKILL after the grace period; leaves no process. */
export async function stop(options: BrokerOptions & { graceMs?: number } = {}): Promise<boolean> {
  const r = resolve(options);
  const pid = readPid(r);
  if (pid === undefined || !alive(pid)) {
    rmSync(pidFile(r), { force: true });
    r.log('Kafka is not running');
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + (options.graceMs ?? 30_000);
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    r.log(`Kafka (pid ${pid}) ignored SIGTERM; killing it`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
  }
  rmSync(pidFile(r), { force: true });
  r.log(`Kafka stopped (pid ${pid})`);
  return true;
}

/** Removes data and logs, for a clean slate; the broker must be stopped. */
export async function reset(options: BrokerOptions = {}): Promise<void> {
  const r = resolve(options);
  if ((await status(options)).state === 'running') throw new Error('stop the broker before resetting it');
  rmSync(r.runDir, { recursive: true, force: true });
}
