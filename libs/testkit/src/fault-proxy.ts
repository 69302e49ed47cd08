import { createConnection, createServer, type Socket } from 'node:net';

/**
 * How the proxy treats new connections: `pass` forwards them; `refuse` accepts and resets each one at once
 * (what a client sees of a server that is down).
 */
export type ProxyMode = 'pass' | 'refuse';

export interface FaultProxyStats {
  /** Connections forwarded to the target. */
  forwarded: number;
  /** Connections reset on arrival while refusing. */
  refused: number;
  /** Open connections reset by `drop()`. */
  dropped: number;
}

export interface FaultProxy {
  port: number;
  /** `127.0.0.1:<port>`. */
  address: string;
  readonly mode: ProxyMode;
  readonly open: number;
  stats(): FaultProxyStats;
  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void;
  /** Resets every open connection; new ones are still forwarded (a blip, not an outage). */
  drop(): void;
  /** Forwards again, with no delay. */
  restore(): void;
  /** Holds each new connection `ms` before connecting it to the target. */
  delay(ms: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server the test does not own (the machine's Postgres or Redis), so a test can cut,
 * refuse or slow the connections its services make without touching the server. Point the services at
 * `address` instead of the server's.
 */
export async function startFaultProxy({
  target,
  port = 0,
}: {
  target: { host: string; port: number };
  port?: number;
}): Promise<FaultProxy> {
  let mode: ProxyMode = 'pass';
  let delayMs = 0;
  const stats: FaultProxyStats = { forwarded: 0, refused: 0, dropped: 0 };
  const pairs = new Set<Socket>();

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      stats.refused += 1;
      client.resetAndDestroy();
      return;
    }
    pairs.add(client);
    client.once('close', () => pairs.delete(client));
    client.pause();
    const forward = () => {
      if (client.destroyed) return;
      if (mode === 'refuse') {
        stats.refused += 1;
        client.resetAndDestroy();
        return;
      }
      stats.forwarded += 1;
      const upstream = createConnection({ host: target.host, port: target.port });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    };
    if (delayMs > 0) setTimeout(forward, delayMs).unref();
    else forward();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;

  const resetAll = () => {
    for (const socket of pairs) {
      stats.dropped += 1;
      socket.resetAndDestroy();
    }
    pairs.clear();
  };

  return {
    port: bound,
    address: `127.0.0.1:${bound}`,
    get mode() {
      return mode;
    },
    get open() {
      return pairs.size;
    },
    stats: () => ({ ...stats }),
    cut() {
      mode = 'refuse';
      resetAll();
    },
    drop: resetAll,
    restore() {
      mode = 'pass';
      delayMs = 0;
    },
    delay(ms) {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        resetAll();
        server.close(() => resolve());
      }),
  };
}
