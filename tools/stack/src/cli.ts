import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { brokerAddress, repoRoot, start as startKafka, stop as stopKafka } from '@qbo/local-kafka';
import { runDemo } from './demo.js';
import { type Launched, launch } from './launch.js';
import { ensureDatabase } from './postgres.js';
import { loadStackSecrets } from './secrets.js';
import {
  choosePorts,
  consoleEnv,
  entryOf,
  orgToken,
  SERVICES,
  serviceEnv,
  simulatorLaunch,
} from './services.js';

// Runs the platform on this machine: a real Kafka broker, the platform database on the local Postgres, every
// service and the QuickBooks simulator standing in for Intuit, each checked ready. `--demo` then tells the
// whole story (demo.ts) on a company of 20,000 records (`--demo-records N` for another size); `--once` stops
// everything again once all are ready (or the demo is done); `--port-offset N` shifts every port;
// `--free-ports` picks free ones.
// Each process logs to .local/stack/logs/<name>.log; `--logs` streams them here too (warnings always are).

const args = process.argv.slice(2);
const once = args.includes('--once');
const offsetArg = args[args.indexOf('--port-offset') + 1];
const portOffset = args.includes('--port-offset') ? Number(offsetArg) : 0;
const free = args.includes('--free-ports');
const demo = args.includes('--demo');
const demoRecords = args.includes('--demo-records')
  ? Number(args[args.indexOf('--demo-records') + 1])
  : undefined;
const streamLogs = args.includes('--logs');
const print = (line: string) => process.stdout.write(`${line}\n`);
const colour = process.stdout.isTTY === true;

async function main(): Promise<number> {
  const root = repoRoot();
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = await ensureDatabase(serverUrl, process.env.QBO_DATABASE ?? 'qbo');
  print(`[stack] database ready`);

  const kafka = await startKafka({ log: (line) => print(`[kafka] ${line}`) });
  const brokers = process.env.KAFKA_BROKERS ?? brokerAddress();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

  // QBO_STACK_SECRETS_FILE: another place for them (a test's own stack keeps its own).
  const secrets = await loadStackSecrets(
    process.env.QBO_STACK_SECRETS_FILE ?? join(root, '.local', 'stack', 'secrets.json'),
  );
  const ports = await choosePorts(portOffset, free);
  const logDir = join(root, '.local', 'stack', 'logs');
  await mkdir(logDir, { recursive: true });
  const logs = (name: string) => ({ file: join(logDir, `${name}.log`), stream: streamLogs });
  print(
    `[stack] service logs in ${logDir}${streamLogs ? ' (streamed here too)' : ' (--logs streams them here)'}`,
  );
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim();
  const running: Launched[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return code;
    stopping = true;
    print('[stack] stopping services');
    const codes = await Promise.all(running.map((s) => s.stop()));
    if (kafka.started) await stopKafka({ log: (line) => print(`[kafka] ${line}`) });
    return codes.every((c) => c === 0) ? code : 1;
  };

  try {
    // Consent: a page with a company picker for people; approved at once for the scripted demo.
    const sim = simulatorLaunch(ports, secrets, demo ? 'auto' : 'page');
    running.push(
      launch(
        'qbo-simulator',
        {
          entry: join(root, 'tools', 'qbo-simulator', 'dist', 'cli.js'),
          args: sim.args,
          env: { ...process.env, ...sim.env, NODE_OPTIONS: nodeOptions },
        },
        print,
        colour,
        logs('qbo-simulator'),
      ),
    );
    for (const spec of SERVICES) {
      const service = launch(
        spec.name,
        {
          ...entryOf(root, spec.name),
          env: {
            ...process.env,
            ...serviceEnv(spec.name, ports, secrets, redisUrl),
            DATABASE_URL: databaseUrl,
            KAFKA_BROKERS: brokers,
            PORT: String(ports[spec.name]),
            NODE_OPTIONS: nodeOptions,
          },
        },
        print,
        colour,
        logs(spec.name),
      );
      running.push(service);
    }
    running.push(
      launch(
        'console',
        {
          entry: join(root, 'tools', 'console', 'dist', 'main.js'),
          env: { ...process.env, ...consoleEnv(ports), NODE_OPTIONS: nodeOptions },
        },
        print,
        colour,
        logs('console'),
      ),
    );
    const listening = await Promise.all(running.map((s) => s.started));
    const rows: string[] = [];
    for (const [i, service] of running.entries()) {
      const url = `http://127.0.0.1:${listening[i]}`;
      // The simulator has no readiness probe: it is ready once it listens.
      const ready =
        service.name === 'qbo-simulator'
          ? { status: 'ok' }
          : await fetch(`${url}/readyz`).then((r) => r.json() as Promise<{ status: string }>);
      rows.push(`  ${service.name.padEnd(16)} ${url.padEnd(24)} ${ready.status}`);
      if (ready.status !== 'ok') throw new Error(`${service.name} is not ready: ${JSON.stringify(ready)}`);
    }
    print(`\n[stack] all services ready (Kafka at ${brokers})\n${rows.join('\n')}\n`);
    const consoleUrl = `http://127.0.0.1:${ports.console}`;
    // The token rides in the fragment, which the browser keeps to itself; the page stores it for the tab only.
    print(`[stack] console: ${consoleUrl}/`);
    print(
      `[stack] sign in as the local operator: ${consoleUrl}/#token=${await orgToken(secrets.orgJwtSecret, 'local-operator', { operator: true, hours: 12 })}\n`,
    );
    if (demo)
      await runDemo(
        { ports, secrets, databaseUrl, brokers, ...(demoRecords ? { records: demoRecords } : {}) },
        print,
      );
  } catch (err) {
    print(`[stack] ${(err as Error).message}`);
    return stopAll(1);
  }

  if (once) return stopAll(0);
  print('[stack] press Ctrl-C to stop');
  return new Promise<number>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => void stopAll(0).then(resolve));
    for (const service of running) {
      void service.exited.then((code) => {
        if (!stopping) {
          print(`[stack] ${service.name} exited unexpectedly (${code})`);
          void stopAll(1).then(resolve);
        }
      });
    }
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[stack] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
