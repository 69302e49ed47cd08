/**
 * Faults a test arms per realm and endpoint: an HTTP status with Intuit's body, added latency, a hang past
 * the 120-second request timeout, a dropped connection, or `invalid_grant`, `invalid_client` (401) or `invalid_request` from the token endpoint. A
 * `poison` rule is not per request: it makes one record unreadable until it is removed.
 */
export const FAULT_KINDS = [
  '429',
  '500',
  '502',
  '503',
  '504',
  '413',
  'latency',
  'timeout',
  'drop',
  'invalid_grant',
  'invalid_client',
  'invalid_request',
  'poison',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRuleInput {
  kind: FaultKind;
  /** Only this realm; every realm when absent. */
  realmId?: string;
  /** An endpoint name (`query`, `cdc`, `token`…), a prefix ending in `*`, or every endpoint when absent. */
  endpoint?: string;
  /** How many matching requests it affects; forever when absent. */
  times?: number;
  /** For `latency`. */
  latencyMs?: number;
  /** For `poison`: the record (entity name, any case, and Id) and the fault every read of it gets. */
  entity?: string;
  recordId?: string;
  code?: PoisonCode;
}

/** 4002 QueryProcessingError (HTTP 400) or 10000 SystemFault (HTTP 500), as real companies answer (sync-research §1.10). */
export type PoisonCode = '4002' | '10000';

/** Which fault, if any, reading this record answers. */
export type PoisonCheck = (entity: string, id: string) => PoisonCode | undefined;

export interface FaultRule extends FaultRuleInput {
  id: number;
  remaining: number | undefined;
}

export interface FaultPlan {
  latencyMs: number;
  outcome: Exclude<FaultKind, 'latency' | 'poison'> | undefined;
}

const matches = (rule: FaultRule, realmId: string | undefined, endpoint: string) =>
  (rule.realmId === undefined || rule.realmId === realmId) &&
  (rule.endpoint === undefined ||
    rule.endpoint === endpoint ||
    (rule.endpoint.endsWith('*') && endpoint.startsWith(rule.endpoint.slice(0, -1))));

export class FaultInjector {
  #rules: FaultRule[] = [];
  #nextId = 1;

  add(input: FaultRuleInput): FaultRule {
    const rule: FaultRule = { ...input, id: this.#nextId++, remaining: input.times };
    this.#rules.push(rule);
    return rule;
  }

  list(): readonly FaultRule[] {
    return this.#rules;
  }

  remove(id: number): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
  }

  /** What happens to one request: every matching latency adds up; the first other match decides the outcome. */
  plan(
    realmId: string | undefined,
    endpoint: string,
    allowed: (kind: FaultKind) => boolean = () => true,
  ): FaultPlan {
    const plan: FaultPlan = { latencyMs: 0, outcome: undefined };
    for (const rule of this.#rules) {
      if (rule.kind === 'poison' || !matches(rule, realmId, endpoint) || !allowed(rule.kind)) continue;
      if (rule.kind !== 'latency' && plan.outcome !== undefined) continue;
      if (rule.kind === 'latency') plan.latencyMs += rule.latencyMs ?? 0;
      else plan.outcome = rule.kind as FaultPlan['outcome'];
      if (rule.remaining !== undefined) rule.remaining--;
    }
    this.#rules = this.#rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return plan;
  }

  /** The poison rules armed for a realm, as a check queries, CDC, batch and reads apply to each record. */
  poison(realmId: string): PoisonCheck | undefined {
    const rules = this.#rules.filter(
      (r) => r.kind === 'poison' && (r.realmId === undefined || r.realmId === realmId),
    );
    if (rules.length === 0) return undefined;
    return (entity, id) => {
      const rule = rules.find((r) => r.recordId === id && r.entity?.toLowerCase() === entity.toLowerCase());
      return rule ? (rule.code ?? '4002') : undefined;
    };
  }
}
