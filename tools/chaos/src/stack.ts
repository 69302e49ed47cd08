import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { start as startKafka, stop as stopKafka } from '@qbo/local-kafka';
import { type Launched, launch } from '@qbo/stack/launch';
import { loadStackSecrets, type StackSecrets } from '@qbo/stack/secrets';
import {
  choosePorts,
  type Deployable,
  entryOf,
  SERVICES,
  type StackPorts,
  serviceEnv,
  simulatorLaunch,
} from '@qbo/stack/services';
import { createTestDatabase, type FaultProxy, startFaultProxy, type TestDatabase } from '@qbo/testkit';

/**
 * The stack the chaos run breaks: its own Kafka broker (free ports, its own data folder: the machine's shared
 * broker is never touched), its own database on the machine's Postgres, Postgres and Redis reached through
 * fault-injecting proxies, the simulator as Intuit and the four services, each one a process the driver may
 * `kill -9` and start again.
 */
export interface ChaosStack {
  ports: StackPorts;
  secrets: StackSecrets;
  /** The database, reached directly (not through the proxy): where the driver counts. */
  db: TestDatabase;
  brokers: string;
  postgres: FaultProxy;
  redis: FaultProxy;
  simulator: string;
  realmIds: string[];
  /** `kill -9`, then started again once `downMs` has passed; resolves when it is ready. */
  killService(name: Deployable, downMs: number): Promise<void>;
  /** The broker stopped (SIGTERM, as a rolling restart does), then started again on its data. */
  restartBroker(): Promise<void>;
  /** Starts again any service that is not running (a service that died on its own is counted). */
  ensureRunning(): Promise<void>;
  /** Services that exited without being killed by the driver, by name. */
  unexpectedExits: Map<Deployable, number>;
  stop(): Promise<void>;
}

export interface ChaosStackOptions {
  runDir: string;
  companies: number;
  records: number;
  seed: number;
  log: (line: string) => void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startChaosStack(opts: ChaosStackOptions): Promise<ChaosStack> {
  const { runDir, log } = opts;
  const root = join(import.meta.dirname, '..', '..', '..');
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const broker = {
    port: await freePort(),
    controllerPort: await freePort(),
    runDir: join(runDir, 'kafka'),
    log: (line: string) => log(`[kafka] ${line}`),
  };
  await startKafka(broker);
  // Interrupted (Ctrl-C, a CI timeout): the broker runs detached, so it is stopped here, not left behind.
  const interrupted = () => {
    void stopKafka(broker).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const brokers = `127.0.0.1:${broker.port}`;

  const db = await createTestDatabase('chaos');
  const pgServer = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const redisServer = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const postgres = await startFaultProxy({
    target: { host: pgServer.hostname, port: Number(pgServer.port || 5432) },
  });
  const redis = await startFaultProxy({
    target: { host: redisServer.hostname, port: Number(redisServer.port || 6379) },
  });
  const viaProxy = new URL(db.url);
  viaProxy.host = postgres.address;
  const redisViaProxy = new URL(redisServer.toString());
  redisViaProxy.host = redis.address;

  const secrets = await loadStackSecrets(join(runDir, 'secrets.json'));
  const ports = await choosePorts(0, true);
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim();
  const common = {
    KAFKA_BROKERS: brokers,
    KAFKA_TOPIC_PARTITIONS: '3',
    // Info: each process's 'service started' line is what the driver waits for (the lines go to files).
    LOG_LEVEL: 'info',
    NODE_OPTIONS: nodeOptions,
    OTEL_SDK_DISABLED: 'true',
  };
  const quiet = () => undefined;
  const logs = (name: string) => ({ file: join(logDir, `${name}.log`), stream: false });

  const sim = simulatorLaunch(ports, secrets, 'auto');
  const simArgs = sim.args.map((a, i, all) =>
    all[i - 1] === '--seed' ? String(opts.seed) : all[i - 1] === '--companies' ? String(opts.companies) : a,
  );
  const simulator = launch(
    'qbo-simulator',
    {
      entry: join(root, 'tools', 'qbo-simulator', 'dist', 'cli.js'),
      args: [
        ...simArgs.map((a, i, all) => (all[i - 1] === '--records' ? String(opts.records) : a)),
        // Intuit retries a delivery after 10 s, 20 s, 30 s, 5 min…: twenty times faster here.
        ...['--webhook-time-scale', '0.05'],
      ],
      env: { ...process.env, ...sim.env, ...common },
    },
    quiet,
    false,
    logs('qbo-simulator'),
  );
  await simulator.started;
  const simUrl = `http://127.0.0.1:${ports.simulator}`;
  const companies = (await (await fetch(`${simUrl}/_sim/companies`)).json()) as
    | { realmId: string }[]
    | { companies: { realmId: string }[] };
  const realmIds = (Array.isArray(companies) ? companies : companies.companies).map((c) => c.realmId);

  const running = new Map<Deployable, Launched>();
  const killing = new Set<Launched>();
  const unexpectedExits = new Map<Deployable, number>();
  let stopping = false;
  const startService = async (name: Deployable) => {
    const service = launch(
      name,
      {
        ...entryOf(root, name),
        env: {
          ...process.env,
          ...serviceEnv(name, ports, secrets, redisViaProxy.toString()),
          ...common,
          DATABASE_URL: viaProxy.toString(),
          PORT: String(ports[name]),
          SHUTDOWN_TIMEOUT_MS: '5000',
        },
      },
      (line) => log(line),
      false,
      logs(name),
    );
    running.set(name, service);
    void service.exited.then((code) => {
      if (stopping || killing.has(service)) return;
      unexpectedExits.set(name, (unexpectedExits.get(name) ?? 0) + 1);
      log(`[chaos] ${name} exited on its own (${code}); see ${join(logDir, `${name}.log`)}`);
    });
    await service.started;
    await waitReady(`http://127.0.0.1:${ports[name]}`, 60_000);
  };
  for (const { name } of SERVICES) await startService(name);

  const isRunning = (s: Launched | undefined) =>
    s !== undefined && s.child.exitCode === null && s.child.signalCode === null;

  return {
    ports,
    secrets,
    db,
    brokers,
    postgres,
    redis,
    simulator: simUrl,
    realmIds,
    unexpectedExits,
    async killService(name, downMs) {
      const service = running.get(name);
      if (service && isRunning(service)) {
        killing.add(service);
        service.child.kill('SIGKILL');
        await service.exited;
      }
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await startService(name);
    },
    async restartBroker() {
      await stopKafka({ ...broker, graceMs: 30_000 });
      await startKafka(broker);
    },
    async ensureRunning() {
      for (const { name } of SERVICES) if (!isRunning(running.get(name))) await startService(name);
    },
    async stop() {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      stopping = true;
      await Promise.all([...running.values()].map((s) => s.stop()));
      await simulator.stop();
      await stopKafka(broker);
      await postgres.close();
      await redis.close();
      await db.drop();
      rmSync(broker.runDir, { recursive: true, force: true });
    },
  };
}

/** Waits until a service's readiness probe answers ok (its database, broker and the rest reachable). */
export async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} is not ready after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
