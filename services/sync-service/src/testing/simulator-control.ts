import type { FaultRuleInput, SimulatorControl } from '@qbo/qbo-simulator';
import { startSimulatorProcess } from '@qbo/qbo-simulator/testing';

export type Counters = ReturnType<SimulatorControl['counters']>;

/** The simulator as its own process, driven only through its HTTP control API, as another Intuit would be. */
export interface SimulatorUnderTest {
  url: string;
  /** The simulator process's id, for measuring its CPU. */
  pid: number | undefined;
  realmIds: string[];
  /** Calls per realm and endpoint, counted by the simulator itself. */
  counters(): Promise<Counters>;
  /** The next consent approves this realm. */
  approveNext(realmId: string): Promise<void>;
  /** Ends the realm's live access tokens: the next API call with one gets 401. */
  expireAccessTokens(realmId: string): Promise<void>;
  /** The user disconnected the app: refreshes get invalid_grant, API calls 401. */
  revoke(realmId: string): Promise<void>;
  /** A change made in QuickBooks: create, update (sparse), delete, void or merge; returns the object. */
  change(realmId: string, request: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Many changes in one request, all stamped with one LastUpdatedTime second when `at` is given. */
  bulk(
    realmId: string,
    changes: readonly Record<string, unknown>[],
    at?: string,
  ): Promise<{ applied: number; at: string; ids: string[] }>;
  /** Each company's live record counts per entity. */
  companies(): Promise<{ realmId: string; counts: Record<string, number> }[]>;
  addFault(rule: FaultRuleInput): Promise<void>;
  /** Disarms every fault. */
  clearFaults(): Promise<void>;
  /** Delivers the realms' change notifications, signed with `verifierToken`, to `url` from now on. */
  addWebhookTarget(target: {
    url: string;
    format: 'legacy' | 'cloudevents' | 'both';
    verifierToken: string;
  }): Promise<void>;
  /** Sends the webhooks batched so far now, and waits for their deliveries. */
  flushWebhooks(): Promise<void>;
  /** Sets policies where Intuit's behaviour is not settled, e.g. `{ mergeLoser: 'inactive' }`. */
  setPolicies(policies: Record<string, string>): Promise<void>;
  /** The simulator's clock (epoch ms); `advanceMs` moves it forward first. */
  clock(advanceMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startSimulator(args: readonly string[]): Promise<SimulatorUnderTest> {
  const sim = await startSimulatorProcess(['--port', '0', '--control', '--consent', 'auto', ...args]);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.url}/_sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      throw new Error(`simulator ${method} ${path}: ${response.status} ${await response.text()}`);
    }
    return response.status === 204 ? undefined : response.json();
  };
  const companies = (await call('GET', '/companies')) as { realmId: string }[];
  return {
    url: sim.url,
    pid: sim.child.pid,
    realmIds: companies.map((c) => c.realmId),
    counters: async () => (await call('GET', '/counters')) as Counters,
    approveNext: async (realmId) => void (await call('POST', '/consent', { decision: 'approve', realmId })),
    expireAccessTokens: async (realmId) => void (await call('POST', '/tokens/expire', { realmId })),
    revoke: async (realmId) => void (await call('POST', `/companies/${realmId}/revoke`, {})),
    change: async (realmId, request) =>
      (await call('POST', `/companies/${realmId}/changes`, request)) as Record<string, unknown>,
    bulk: async (realmId, changes, at) =>
      (await call('POST', `/companies/${realmId}/changes/bulk`, { changes, ...(at ? { at } : {}) })) as {
        applied: number;
        at: string;
        ids: string[];
      },
    companies: async () =>
      (await call('GET', '/companies')) as { realmId: string; counts: Record<string, number> }[],
    addFault: async (rule) => void (await call('POST', '/faults', rule)),
    clearFaults: async () => void (await call('DELETE', '/faults')),
    addWebhookTarget: async (target) => void (await call('POST', '/webhooks/targets', target)),
    flushWebhooks: async () => void (await call('POST', '/webhooks/flush', {})),
    setPolicies: async (policies) => void (await call('POST', '/policies', policies)),
    clock: async (advanceMs) =>
      (
        (await call(
          advanceMs === undefined ? 'GET' : 'POST',
          '/clock',
          advanceMs ? { advanceMs } : undefined,
        )) as {
          now: number;
        }
      ).now,
    stop: () => sim.stop(),
  };
}

/** Calls to one endpoint across realms (a refresh with a token the simulator no longer knows has no realm). */
export const callsTo = (counters: Counters, endpoint: string): number =>
  Object.values(counters).reduce((sum, endpoints) => sum + (endpoints[endpoint]?.calls ?? 0), 0);

/** The simulator's Accounting API endpoints (its OAuth endpoints are not calls the sync makes). */
const API_ENDPOINTS = ['query', 'cdc', 'batch', 'companyinfo', 'pdf', 'read', 'write'];

/** A realm's calls to the Accounting API, or to one endpoint of it. */
export const apiCalls = (counters: Counters, realmId: string, only?: string): number =>
  Object.entries(counters[realmId] ?? {})
    .filter(([endpoint]) => (only ? endpoint === only : API_ENDPOINTS.includes(endpoint)))
    .reduce((n, [, e]) => n + e.calls, 0);
