import { BASIC, type Connection, connect } from '@qbo/qbo-simulator/testing';
import { simulatorRecords } from '../../testing/compare.js';
import type { SimulatorUnderTest } from '../../testing/simulator-control.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Name-list entities: a query returns inactive rows only when asked for them. */
export const NAME_LISTS = new Set(['Customer', 'Vendor', 'Item', 'Account']);

/** What a peer's destination holds: the latest payload per record, or null once it marked the record deleted. */
export class PeerStore {
  readonly rows = new Map<string, Record<string, unknown> | null>();
  upsert(entity: string, row: Record<string, unknown>): void {
    this.rows.set(`${entity}/${row.Id}`, row);
  }
  remove(entity: string, id: string): void {
    this.rows.set(`${entity}/${id}`, null);
  }
}

/** A moving-window limiter: at most `max` calls started in any `windowMs`. */
export function movingWindow(max: number, windowMs: number): () => Promise<void> {
  const starts: number[] = [];
  let chain = Promise.resolve();
  return () => {
    const turn = chain.then(async () => {
      for (;;) {
        const now = Date.now();
        while (starts.length > 0 && (starts[0] as number) <= now - windowMs) starts.shift();
        if (starts.length < max) break;
        await sleep((starts[0] as number) + windowMs - now + 1);
      }
      starts.push(Date.now());
    });
    chain = turn;
    return turn;
  };
}

export interface RetryPolicy {
  /** Milliseconds to wait before retry number `attempt` (0-based) after `status`, or undefined to give up. */
  delay(attempt: number, status: number): number | undefined;
}

/** A peer's HTTP client of the Accounting API, over its own OAuth grant; counts what it saw. */
export class PeerClient {
  calls = 0;
  throttled = 0;
  failures: string[] = [];
  private refreshing: Promise<void> | undefined;
  constructor(
    private readonly sim: SimulatorUnderTest,
    private grant: Connection,
    private readonly limit: (() => Promise<void>) | undefined,
    private readonly retry: RetryPolicy,
  ) {}

  static async open(
    sim: SimulatorUnderTest,
    realmId: string,
    limit: (() => Promise<void>) | undefined,
    retry: RetryPolicy,
  ): Promise<PeerClient> {
    await sim.approveNext(realmId);
    return new PeerClient(sim, await connect({ url: sim.url }), limit, retry);
  }

  /** GET an Accounting API path; throws once the retry policy gives up. */
  async get(path: string, retry: RetryPolicy = this.retry): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      await this.limit?.();
      this.calls += 1;
      const sep = path.includes('?') ? '&' : '?';
      const response = await fetch(
        `${this.sim.url}/v3/company/${this.grant.realmId}/${path}${sep}minorversion=75`,
        { headers: { authorization: `Bearer ${this.grant.accessToken}`, accept: 'application/json' } },
      );
      if (response.ok) return (await response.json()) as Record<string, unknown>;
      const body = await response.text();
      if (response.status === 401) {
        // One refresh for every request the expiry caught (as each peer's token store does), not one each: a
        // rotated refresh token is refused the second time.
        this.refreshing ??= this.refresh().finally(() => {
          this.refreshing = undefined;
        });
        await this.refreshing;
        attempt -= 1;
        continue;
      }
      if (response.status === 429) this.throttled += 1;
      const wait = retry.delay(attempt, response.status);
      if (wait === undefined)
        throw new Error(`${response.status} on ${path.slice(0, 80)}: ${body.slice(0, 160)}`);
      await sleep(wait);
    }
  }

  /** Called after each query page, before the caller goes on (the bench edits records between pages). */
  onQuery: ((select: string, rows: Record<string, unknown>[]) => Promise<void>) | undefined;

  async query(select: string, retry?: RetryPolicy): Promise<Record<string, unknown>> {
    const body = await this.get(`query?query=${encodeURIComponent(select)}`, retry);
    const response = body.QueryResponse as Record<string, unknown> | undefined;
    const rows = Object.values(response ?? {}).find(Array.isArray) as Record<string, unknown>[] | undefined;
    await this.onQuery?.(select, rows ?? []);
    return body;
  }

  /** The access token expired (e.g. the simulator clock jumped): a refresh-token grant, as every peer does. */
  private async refresh(): Promise<void> {
    const response = await fetch(`${this.sim.url}/oauth2/v1/tokens/bearer`, {
      method: 'POST',
      headers: {
        authorization: BASIC,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.grant.refreshToken }),
    });
    if (!response.ok) throw new Error(`refresh: ${response.status}`);
    const tokens = (await response.json()) as { access_token: string; refresh_token: string };
    this.grant = { ...this.grant, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  }
}

export const rowsOf = (body: Record<string, unknown>, entity: string): Record<string, unknown>[] =>
  ((body.QueryResponse as Record<string, unknown> | undefined)?.[entity] as Record<string, unknown>[]) ?? [];

/** The objects of a CDC response by entity (deleted stubs included). */
export function cdcRows(body: Record<string, unknown>): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  for (const group of (body.CDCResponse as { QueryResponse?: Record<string, unknown>[] }[]) ?? []) {
    for (const qr of group.QueryResponse ?? []) {
      for (const [entity, rows] of Object.entries(qr)) {
        if (Array.isArray(rows)) for (const r of rows) out.push([entity, r as Record<string, unknown>]);
      }
    }
  }
  return out;
}

export const lastUpdated = (row: Record<string, unknown>): string =>
  String((row.MetaData as Record<string, unknown> | undefined)?.LastUpdatedTime ?? '');

/** Instants compared as instants, whatever offset the text carries. */
export const instant = (text: string) => Date.parse(text);

/** QBO query text for an instant (UTC, explicit offset). */
export const qboTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A strategy's incremental state carried from one run to the next. */
export interface PeerStrategy {
  name: string;
  client: PeerClient;
  store: PeerStore;
  /** The first run: a full read from the start date. */
  initial(entities: readonly string[]): Promise<void>;
  /** A later run from its saved state. */
  incremental(entities: readonly string[]): Promise<void>;
}

export interface Problems {
  missed: Set<string>;
  wrong: Set<string>;
}

/**
 * A record's version: its SyncToken and LastUpdatedTime (as an instant). Fields Intuit changes without a new
 * version (a customer's Balance after a payment, a void or a delete of one of its invoices) are not part of it:
 * no change-based read, ours or a peer's, can see them, so comparing them would count against every strategy
 * what none could do.
 */
export const versionOf = (row: Record<string, unknown>): string =>
  `${String(row.SyncToken)}@${instant(lastUpdated(row))}`;

/**
 * A destination against the simulator record by record, by version: live records it lacks or marked deleted
 * (missed), and records it holds at another version or that the simulator no longer has (wrong).
 */
export async function compareStore(
  sim: SimulatorUnderTest,
  realmId: string,
  entities: readonly string[],
  rows: ReadonlyMap<string, { version: string } | null>,
): Promise<Problems> {
  const missed = new Set<string>();
  const wrong = new Set<string>();
  for (const entity of entities) {
    const remote = await simulatorRecords(sim, realmId, entity);
    for (const [id, record] of remote) {
      const key = `${entity}/${id}`;
      const local = rows.get(key);
      if (!local) missed.add(key);
      else if (local.version !== versionOf(record)) wrong.add(key);
    }
    for (const [key, local] of rows) {
      const [name, id] = key.split('/') as [string, string];
      if (name === entity && local && !remote.has(id)) wrong.add(key);
    }
  }
  return { missed, wrong };
}

export const versioned = (store: PeerStore) =>
  new Map([...store.rows].map(([k, v]) => [k, v === null ? null : { version: versionOf(v) }]));
