import type { RecordWatch } from './demo-sync.js';
import type { StackSecrets } from './secrets.js';
import { orgToken, type StackPorts } from './services.js';

/** What every chapter of the demo works with: the addresses, the callers' credentials and the watch. */
export interface Demo {
  orgId: string;
  auth: string;
  tokens: string;
  sync: string;
  sim: string;
  brokers: string;
  databaseUrl: string;
  /** The org's own token, as the platform's frontend would hold it. */
  orgBearer: string;
  /** token-service answers each caller only its own operations: status is the operator's, tokens sync's. */
  operatorBearer: string;
  syncBearer: string;
  records: RecordWatch;
  step(line: string): void;
  figures: Figures;
}

/** The figures the story ends with. */
export interface Figures {
  records: number;
  loadCalls: number;
  loadSeconds: number;
  changeLatencyMs: number[];
  recordEvents: number;
  outageAttempts: number;
  catchUpCalls: number;
}

export async function demoOf(
  ports: StackPorts,
  secrets: StackSecrets,
  extra: Pick<Demo, 'orgId' | 'brokers' | 'databaseUrl' | 'records' | 'step'>,
): Promise<Demo> {
  const at = (port: number) => `http://127.0.0.1:${port}`;
  return {
    ...extra,
    auth: at(ports['auth-service']),
    tokens: at(ports['token-service']),
    sync: at(ports['sync-service']),
    sim: at(ports.simulator),
    orgBearer: `Bearer ${await orgToken(secrets.orgJwtSecret, extra.orgId)}`,
    operatorBearer: `Bearer ${secrets.operatorCredential}`,
    syncBearer: `Bearer ${secrets.syncServiceCredential}`,
    figures: {
      records: 0,
      loadCalls: 0,
      loadSeconds: 0,
      changeLatencyMs: [],
      recordEvents: 0,
      outageAttempts: 0,
      catchUpCalls: 0,
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function expectStatus(res: Response, status: number, what: string): Promise<void> {
  if (res.status === status) return;
  const body = await res.text().catch(() => '');
  throw new Error(`could not ${what}: ${res.status} ${body.slice(0, 300)}`);
}

export async function getJson<T>(url: string, authorization: string | undefined, what: string): Promise<T> {
  const res = await fetch(url, { headers: authorization ? { authorization } : {} });
  await expectStatus(res, 200, what);
  return (await res.json()) as T;
}

export async function post<T = unknown>(url: string, body: unknown, authorization?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) await expectStatus(res, 200, `POST ${new URL(url).pathname}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** Polls `read` until `done` holds for its answer; an error after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}

/** The simulator's counts per realm and endpoint. */
export type Counters = Record<string, Record<string, { calls: number; statuses: Record<string, number> }>>;

const API_ENDPOINTS = ['query', 'cdc', 'batch', 'companyinfo', 'pdf', 'read', 'write'];

export const counters = (d: Demo) => getJson<Counters>(`${d.sim}/_sim/counters`, undefined, 'read counters');

/** A realm's calls to the Accounting API (not OAuth), or to one endpoint of it, as Intuit counted them. */
export const apiCalls = (c: Counters, realmId: string, only?: string): number =>
  Object.entries(c[realmId] ?? {})
    .filter(([endpoint]) => (only ? endpoint === only : API_ENDPOINTS.includes(endpoint)))
    .reduce((n, [, e]) => n + e.calls, 0);

export interface Connection {
  id?: string;
  connectionId?: string;
  realmId: string;
  status: string;
  deactivationReason?: string | null;
}

/** auth-service's status view of one connection, as the org sees it. */
export const connectionStatus = (d: Demo, connectionId: string) =>
  getJson<Connection>(`${d.auth}/connections/${connectionId}`, d.orgBearer, 'read the connection');

/** A text progress bar: `[#######.......]  48 %`. */
export function bar(percent: number, width = 30): string {
  const p = Math.max(0, Math.min(100, Math.round(percent)));
  const full = Math.round((p * width) / 100);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(p).padStart(3)} %`;
}
