import { brokerAddress, repoRoot, start as startKafka, stop as stopKafka } from '@qbo/local-kafka';
import { type Launched, launch } from './launch.js';
import { ensureDatabase } from './postgres.js';
import { entryOf, SERVICES } from './services.js';

// Runs the platform on this machine: a real Kafka broker, the platform database on the local Postgres, and
// every service, each checked ready. `--once` stops everything again once all are ready (a smoke test);
// `--port-offset N` shifts every service port (0 picks free ports).

const args = process.argv.slice(2);
const once = args.includes('--once');
const offsetArg = args[args.indexOf('--port-offset') + 1];
const portOffset = args.includes('--port-offset') ? Number(offsetArg) : 0;
const free = args.includes('--free-ports');
const print = (line: string) => process.stdout.write(`${line}\n`);
const colour = process.stdout.isTTY === true;

async function main(): Promise<number> {
  const root = repoRoot();
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = await ensureDatabase(serverUrl, process.env.QBO_DATABASE ?? 'qbo');
  print(`[stack] database ready`);

  const kafka = await startKafka({ log: (line) => print(`[kafka] ${line}`) });
  const brokers = process.env.KAFKA_BROKERS ?? brokerAddress();

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
    for (const spec of SERVICES) {
      const port = free ? 0 : spec.port + portOffset;
      const service = launch(
        spec.name,
        {
          ...entryOf(root, spec.name),
          env: {
            ...process.env,
            DATABASE_URL: databaseUrl,
            KAFKA_BROKERS: brokers,
            PORT: String(port),
            NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim(),
          },
        },
        print,
        colour,
      );
      running.push(service);
    }
    const ports = await Promise.all(running.map((s) => s.started));
    const rows: string[] = [];
    for (const [i, service] of running.entries()) {
      const url = `http://127.0.0.1:${ports[i]}`;
      const ready = await fetch(`${url}/readyz`).then((r) => r.json() as Promise<{ status: string }>);
      rows.push(`  ${service.name.padEnd(16)} ${url.padEnd(24)} ${ready.status}`);
      if (ready.status !== 'ok') throw new Error(`${service.name} is not ready: ${JSON.stringify(ready)}`);
    }
    print(`\n[stack] all services ready (Kafka at ${brokers})\n${rows.join('\n')}\n`);
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
