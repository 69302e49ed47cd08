import type { ConsentDecision, Core } from './core.js';
import type { Company } from './domain/company.js';
import { entityDef } from './domain/entities/registry.js';
import type { EntityName, QboObject } from './domain/entities/types.js';
import { faults } from './domain/fault.js';
import { realmIdFor, type SeedCounts, seedCompany, splitRecords } from './domain/seed.js';
import { createRecord, deleteRecord, mergeRecords, updateRecord, voidRecord } from './domain/writes.js';
import type { FaultRule, FaultRuleInput } from './faults/fault-rules.js';
import type { LimitPolicy } from './limits/rate-limiter.js';
import type { SeedRequest } from './options.js';
import { createRandom } from './random.js';
import type { Delivery, WebhookTarget } from './webhooks/dispatcher.js';

/** A data change made "in QuickBooks" (by a user, not through the API): it fires webhooks like any other. */
export type ChangeRequest =
  | { op: 'create'; entity: EntityName; data: QboObject }
  | { op: 'update'; entity: EntityName; id: string; data: QboObject }
  | { op: 'delete'; entity: EntityName; id: string }
  | { op: 'void'; entity: EntityName; id: string }
  | { op: 'merge'; entity: EntityName; id: string; into: string };

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
  const defOf = (entity: string) => {
    const def = entityDef(entity);
    if (!def) throw faults.invalidProperty(`Unknown entity ${entity}`);
    return def;
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
      const c = company(realmId);
      const def = defOf(request.entity);
      const now = clock.now();
      const current = (id: string) => {
        const row = c.find(def.name, id);
        if (!row || row.deleted) throw faults.notFound();
        return row.data;
      };
      let result: ReturnType<typeof createRecord>;
      switch (request.op) {
        case 'create':
          result = createRecord(c, def, request.data, now);
          break;
        case 'update': {
          const data = current(request.id);
          result = updateRecord(
            c,
            def,
            { ...request.data, Id: request.id, SyncToken: data.SyncToken, sparse: true },
            now,
          );
          break;
        }
        case 'delete': {
          const data = current(request.id);
          result =
            def.kind === 'name-list'
              ? updateRecord(
                  c,
                  def,
                  { Id: request.id, SyncToken: data.SyncToken, sparse: true, Active: false },
                  now,
                )
              : deleteRecord(c, def, { Id: request.id, SyncToken: data.SyncToken }, now);
          break;
        }
        case 'void': {
          const data = current(request.id);
          result = voidRecord(c, def, { Id: request.id, SyncToken: data.SyncToken }, now);
          break;
        }
        case 'merge':
          result = mergeRecords(c, def, request.id, request.into, now);
          break;
      }
      realms.publish(result.events);
      return result.body;
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
