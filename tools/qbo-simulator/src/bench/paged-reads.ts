/**
 * Benchmark: how fast the simulator seeds 100k customers, and how many pages of 1000 customers a client
 * reads per second over real HTTP, the way a sync's initial load does. The simulator runs as its own
 * process (the CLI), as it does beside a sync service, so client and server do not share one thread.
 *   node_modules/.bin/node tools/qbo-simulator/dist/bench/paged-reads.js [customers] [passes]
 * Limits are off: 100 pages/s is ten times Intuit's 10 requests/s, and the point is the simulator's speed.
 */
import { createSimulator } from '../index.js';
import { connect, query } from '../testing/connect.js';
import { startSimulatorProcess } from '../testing/process.js';

const customers = Number(process.argv[2] ?? 100_000);
const passes = Number(process.argv[3] ?? 3);
const PAGE = 1000;
const out = (line: string) => process.stdout.write(`${line}\n`);

// Seeding in this process, timed around the call alone.
const local = await createSimulator({});
const seeded = local.control.seed({ seed: 42, companies: 1, counts: { Customer: customers } });
out(`seeding: ${customers} customers in ${seeded.ms} ms (in process)`);
await local.close();

const simulator = await startSimulatorProcess([
  '--port',
  '0',
  '--companies',
  '0',
  '--control',
  '--no-limits',
  '--consent',
  'auto',
]);
const { url } = simulator;

try {
  const post = (path: string, body: unknown) =>
    fetch(`${url}/_sim${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const remote = (await (
    await post('/seed', { seed: 42, companies: 1, counts: { Customer: customers } })
  ).json()) as {
    realmIds: string[];
    ms: number;
  };
  out(`seeding: ${customers} customers in ${remote.ms} ms (simulator process)`);
  const realmId = remote.realmIds[0] as string;
  await post('/consent', { decision: 'approve', realmId });
  const conn = await connect({ url });

  /** Pages until a short page; `parse` decides whether the client also parses the JSON, as a sync would. */
  const run = async (label: string, select: (start: number) => string, parse = true) => {
    let pages = 0;
    let rows = 0;
    let bytes = 0;
    const started = performance.now();
    for (let pass = 0; pass < passes; pass++) {
      for (let start = 1; ; start += PAGE) {
        const text = await (await query({ url }, conn, select(start))).text();
        // Without parsing, a page is full while its length says so; the last page is the short one.
        const n = parse
          ? ((JSON.parse(text) as { QueryResponse: { Customer?: unknown[] } }).QueryResponse.Customer
              ?.length ?? 0)
          : Number(/"maxResults":(\d+)/.exec(text)?.[1] ?? 0);
        bytes += text.length;
        pages++;
        rows += n;
        if (n < PAGE) break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    out(
      `${label}: ${pages} pages of ${PAGE} in ${seconds.toFixed(2)} s = ${(pages / seconds).toFixed(0)} pages/s (${(rows / seconds).toFixed(0)} rows/s, ${(bytes / seconds / 1e6).toFixed(0)} MB/s)`,
    );
  };

  const byPosition = (start: number) =>
    `select * from Customer where Active IN (true, false) startposition ${start} maxresults ${PAGE}`;
  await run('paged reads, STARTPOSITION, first read (JIT warm-up)', byPosition);
  await run('paged reads, STARTPOSITION, client parses JSON', byPosition);
  await run('paged reads, STARTPOSITION, client reads bytes only', byPosition, false);
  await run(
    'paged reads, ORDER BY LastUpdatedTime, client parses JSON',
    (start) =>
      `SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '2000-01-01T00:00:00-08:00' AND Active IN (true, false) ORDER BY Metadata.LastUpdatedTime ASC STARTPOSITION ${start} MAXRESULTS ${PAGE}`,
  );
  await run(
    'paged reads, ORDERBY DisplayName, client parses JSON',
    (start) =>
      `select * from Customer where Active IN (true, false) orderby DisplayName startposition ${start} maxresults ${PAGE}`,
  );
} finally {
  await simulator.stop();
}
