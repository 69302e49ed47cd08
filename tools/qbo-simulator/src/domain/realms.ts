import { type ChangeEvent, Company } from './company.js';
import { seedTaxCodes } from './tax-codes.js';

export type ChangeListener = (events: readonly ChangeEvent[]) => void;

/** Every company the simulator hosts, and the change feed webhooks listen to. */
export class Realms {
  readonly #companies = new Map<string, Company>();
  readonly #listeners = new Set<ChangeListener>();

  get(realmId: string): Company | undefined {
    return this.#companies.get(realmId);
  }

  all(): Company[] {
    return [...this.#companies.values()];
  }

  create(realmId: string, name: string, now: number): Company {
    const existing = this.#companies.get(realmId);
    if (existing) return existing;
    const company = new Company(realmId, name, now);
    seedTaxCodes(company, now);
    this.#companies.set(realmId, company);
    return company;
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(events: readonly ChangeEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.#listeners) listener(events);
  }
}
