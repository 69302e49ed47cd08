import { Agent, request } from 'node:http';

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  ms: number;
  /** Latencies of the 2xx answers, ms, sorted. */
  latencies: number[];
}

export type NextBody = () => { body: string; signature: string };

function post(agent: Agent, url: URL, next: NextBody): Promise<{ status: number; ms: number }> {
  const { body, signature } = next();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'intuit-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end(body);
  });
}

function collect() {
  const result: LoadResult = { sent: 0, ok: 0, failed: 0, ms: 0, latencies: [] };
  const record = ({ status, ms }: { status: number; ms: number }) => {
    if (status >= 200 && status < 300) {
      result.ok++;
      result.latencies.push(ms);
    } else result.failed++;
  };
  return { result, record };
}

/** As fast as `concurrency` clients with keep-alive can go, for `durationMs`. */
export async function closedLoop(target: string, next: NextBody, concurrency: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(target);
  const { result, record } = collect();
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        result.sent++;
        record(await post(agent, url, next));
      }
    }),
  );
  result.ms = performance.now() - t0;
  agent.destroy();
  result.latencies.sort((a, b) => a - b);
  return result;
}

/** A steady `rate` requests/s for `durationMs`, whatever the answers' latency (an open loop). */
export async function openLoop(target: string, next: NextBody, rate: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const url = new URL(target);
  const { result, record } = collect();
  const t0 = performance.now();
  const total = Math.round((rate * durationMs) / 1000);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    result.sent++;
    inFlight.push(post(agent, url, next).then(record));
  }
  await Promise.all(inFlight);
  result.ms = performance.now() - t0;
  agent.destroy();
  result.latencies.sort((a, b) => a - b);
  return result;
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
