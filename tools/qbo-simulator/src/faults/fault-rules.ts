/**
 * Faults a test arms per realm and endpoint: an HTTP status with Intuit's body, added latency, a hang past
 * the 120-second request timeout, a dropped connection, or `invalid_grant` from the token endpoint.
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
}

export interface FaultRule extends FaultRuleInput {
  id: number;
  remaining: number | undefined;
}

export interface FaultPlan {
  latencyMs: number;
  outcome: Exclude<FaultKind, 'latency'> | undefined;
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
      if (!matches(rule, realmId, endpoint) || !allowed(rule.kind)) continue;
      if (rule.kind !== 'latency' && plan.outcome !== undefined) continue;
      if (rule.kind === 'latency') plan.latencyMs += rule.latencyMs ?? 0;
      else plan.outcome = rule.kind;
      if (rule.remaining !== undefined) rule.remaining--;
    }
    this.#rules = this.#rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return plan;
  }
}
