import { ENTITY_DEFS } from './entities/registry.js';
import {
  ENTITY_NAMES,
  type EntityLookup,
  type EntityName,
  type NameScope,
  type Row,
} from './entities/types.js';
import { EntityTable } from './table.js';

export type ChangeOperation = 'Create' | 'Update' | 'Delete' | 'Merge' | 'Void' | 'Emailed';

/** One change to one record, as webhooks report it. */
export interface ChangeEvent {
  realmId: string;
  entity: EntityName;
  id: string;
  operation: ChangeOperation;
  updatedMs: number;
  /** On a Merge: the id that was merged away (`id` is the survivor). */
  deletedId?: string;
}

/** A stored answer for `requestid` replays: the same status and the same bytes. */
export interface StoredResponse {
  status: number;
  body: string;
}

/** One QuickBooks company (realm): its records, the indexes writes check, and its idempotency memory. */
export class Company {
  readonly realmId: string;
  readonly name: string;
  readonly createdMs: number;
  readonly tables: Readonly<Record<EntityName, EntityTable>>;
  /** invoiceId → paymentId → amount applied. */
  readonly applied = new Map<string, Map<string, number>>();
  /** Answers by `requestid`; a pending promise holds the id while the first request runs. */
  readonly requests = new Map<string, Promise<StoredResponse>>();
  readonly #names = new Map<NameScope, Map<string, Row>>();
  /** Records created by earlier items of the batch being run: later items must not see them (§5). */
  hidden: Set<Row> | undefined;
  #docNumber = 1000;

  constructor(realmId: string, name: string, createdMs: number) {
    this.realmId = realmId;
    this.name = name;
    this.createdMs = createdMs;
    this.tables = Object.fromEntries(ENTITY_NAMES.map((e) => [e, new EntityTable(e)])) as Record<
      EntityName,
      EntityTable
    >;
  }

  find(entity: EntityName, id: string): Row | undefined {
    return this.tables[entity].get(id);
  }

  /** `find` as a write or query in a batch sees it: records earlier items created are not there yet. */
  visible(entity: EntityName, id: string): Row | undefined {
    const row = this.tables[entity].get(id);
    return row && this.hidden?.has(row) ? undefined : row;
  }

  #scope(scope: NameScope): Map<string, Row> {
    let names = this.#names.get(scope);
    if (!names) {
      names = new Map();
      this.#names.set(scope, names);
    }
    return names;
  }

  appliedToInvoice(invoiceId: string, exceptPaymentId?: string): number {
    let sum = 0;
    for (const [paymentId, amount] of this.applied.get(invoiceId) ?? []) {
      if (paymentId !== exceptPaymentId) sum += amount;
    }
    return Math.round(sum * 100) / 100;
  }

  nextDocNumber(): string {
    return String(++this.#docNumber);
  }

  /** Keeps generated DocNumbers above the ones seeding used. */
  reserveDocNumbers(upTo: number): void {
    this.#docNumber = Math.max(this.#docNumber, upTo);
  }

  lookup(now: number): EntityLookup {
    return {
      find: (entity, id) => this.visible(entity, id),
      appliedToInvoice: (invoiceId, except) => this.appliedToInvoice(invoiceId, except),
      nextDocNumber: () => this.nextDocNumber(),
      now,
    };
  }

  /** The record already using `name` in the entity's uniqueness scope (case-insensitive). */
  nameOwner(entity: EntityName, name: unknown): Row | undefined {
    const unique = ENTITY_DEFS[entity].unique;
    if (!unique || typeof name !== 'string') return undefined;
    return this.#scope(unique.scope).get(name.toLowerCase());
  }

  indexName(row: Row, previous: unknown): void {
    const unique = ENTITY_DEFS[row.entity].unique;
    if (!unique) return;
    const names = this.#scope(unique.scope);
    if (typeof previous === 'string' && names.get(previous.toLowerCase()) === row)
      names.delete(previous.toLowerCase());
    const current = row.data[unique.field];
    if (!row.deleted && typeof current === 'string') names.set(current.toLowerCase(), row);
  }
}
