import type { ConsentDecision, Core } from './core.js';
import type { Company } from './domain/company.js';
import type { EntityName, QboObject } from './domain/entities/types.js';

export type { ChangeRequest };

import { applyChange, type ChangeRequest } from './control-changes.js';
import { faults } from './domain/fault.js';
import { realmIdFor, type SeedCounts, seedCompany, splitRecords } from './domain/seed.js';
import type { WriteResult } from './domain/writes.js';
import type { FaultRule, FaultRuleInput } from './faults/fault-rules.js';
import type { LimitPolicy } from './limits/rate-limiter.js';
import type { SeedRequest } from './options.js';
import type { Policies } from './policies.js';
import { createRandom } from './random.js';
import type { Delivery, WebhookTarget } from './webhooks/dispatcher.js';

export interface BulkChangeResult {
  applied: number;
  at: string;
  ids: string[];
}

export interface CompanySummary {
  realmId: string;
  name: string;
  counts: Record<EntityName, number>;
}

export interface SimulatorControl {
  seed(request: SeedRequest): { realmIds: string[]; ms: number };
  createCompany(input?: { realmId?: string; name?: string }): CompanySummary;
  companies(): CompanySummary[];
  change(realmId: string, request: ChangeRequest): QboObject;
  /**
   * Many changes stamped with one instant (`at`, else now), so one LastUpdatedTime second holds them all:
   * a bulk edit or import. They fire webhooks together. Stops at the first failure, keeping earlier ones.
   */
  changes(realmId: string, requests: readonly ChangeRequest[], at?: number): BulkChangeResult;
  policies(): Policies;
  setPolicies(policies: Partial<Policies>): Policies;
  /** The user disconnected the app in QuickBooks: refresh gets invalid_grant, API calls 401. */
  revokeRealm(realmId: string): number;
  /** Ends live access tokens now, for one realm or all. */
  expireAccessTokens(realmId?: string): number;
  addFault(rule: FaultRuleInput): FaultRule;
  faults(): readonly FaultRule[];
  removeFault(id: number): boolean;
  clearFaults(): void;
  clock: {
    now(): number;
    advance(ms: number): number;
    set(ms: number): number;
    freeze(): number;
    unfreeze(): number;
  };
  counters(): ReturnType<Core['counters']['snapshot']>;
  resetCounters(): void;
  /** Accounting API requests of a realm being processed right now. */
  inFlight(realmId: string): number;
  setLimits(limits: Partial<LimitPolicy>): LimitPolicy;
  resetLimits(): void;
  addWebhookTarget(target: WebhookTarget): void;
  deliveries(): readonly Delivery[];
  flushWebhooks(): Promise<void>;
  /** Queues the decision for the next authorization request (auto consent): a realm to connect, or a denial. */
  nextConsent(decision: ConsentDecision): void;
}

function summary(company: Company): CompanySummary {
  const counts = Object.fromEntries(
    Object.entries(company.tables).map(([entity, table]) => [
      entity,
      table.idOrder.reduce((n, row) => n + (row.deleted ? 0 : 1), 0),
    ]),
  ) as Record<EntityName, number>;
  return { realmId: company.realmId, name: company.name, counts };
}

export function createControl(core: Core): SimulatorControl {
  const { realms, clock } = core;
  const company = (realmId: string) => {
    const c = realms.get(realmId);
    if (!c) throw faults.notFound();
    return c;
  };

  return {
    seed({ seed, companies, records, counts }) {
      const started = performance.now();
      const random = createRandom(seed);
      const perEntity: SeedCounts = counts ?? splitRecords(records ?? 0);
      const realmIds: string[] = [];
      for (let i = 0; i < companies; i++) {
        const realmId = realmIdFor(random, (id) => realms.get(id) !== undefined);
        const c = realms.create(realmId, `Sandbox Company_US_${realms.all().length + 1}`, clock.now());
        seedCompany(c, seed * 1000 + i, perEntity, clock.now());
        realmIds.push(realmId);
      }
      return { realmIds, ms: Math.round(performance.now() - started) };
    },
    createCompany(input = {}) {
      const realmId =
        input.realmId ?? realmIdFor(createRandom(Date.now()), (id) => realms.get(id) !== undefined);
      const c = realms.create(
        realmId,
        input.name ?? `Sandbox Company_US_${realms.all().length + 1}`,
        clock.now(),
      );
      return summary(c);
    },
    companies: () => realms.all().map(summary),
    change(realmId, request) {
      const result = applyChange(company(realmId), request, clock.now(), core.policies);
      realms.publish(result.events);
      return result.body;
    },
    changes(realmId, requests, at = clock.now()) {
      const c = company(realmId);
      const results: WriteResult[] = [];
      try {
        for (const request of requests) results.push(applyChange(c, request, at, core.policies));
      } finally {
        realms.publish(results.flatMap((r) => r.events));
      }
      return {
        applied: results.length,
        at: new Date(at).toISOString(),
        ids: results.map((r) => String(r.body.Id)),
      };
    },
    policies: () => core.policies,
    setPolicies(policies) {
      Object.assign(core.policies, policies);
      return core.policies;
    },
    revokeRealm: (realmId) => core.oauth.revokeRealm(realmId),
    expireAccessTokens: (realmId) => core.oauth.expireAccessTokens(realmId, clock.now()),
    addFault: (rule) => core.faults.add(rule),
    faults: () => core.faults.list(),
    removeFault: (id) => core.faults.remove(id),
    clearFaults: () => core.faults.clear(),
    clock: {
      now: () => clock.now(),
      advance: (ms) => {
        clock.advance(ms);
        return clock.now();
      },
      set: (ms) => {
        clock.set(ms);
        return clock.now();
      },
      freeze: () => {
        clock.freeze();
        return clock.now();
      },
      unfreeze: () => {
        clock.unfreeze();
        return clock.now();
      },
    },
    counters: () => core.counters.snapshot(),
    resetCounters: () => core.counters.reset(),
    inFlight: (realmId) => core.limiter.inFlight(realmId),
    setLimits(limits) {
      core.limiter.policy = { ...core.limiter.policy, ...limits };
      return core.limiter.policy;
    },
    resetLimits: () => core.limiter.reset(),
    addWebhookTarget: (target) => core.webhooks.addTarget(target),
    deliveries: () => core.webhooks.deliveries(),
    flushWebhooks: () => core.webhooks.flush(),
    nextConsent: (decision) => {
      core.consentQueue.push(decision);
    },
  };
}
