import type { EntityName, QboObject, Row } from './entities/types.js';

const byUpdated = (a: Row, b: Row) => a.updatedMs - b.updatedMs || a.idNum - b.idNum;

/**
 * One entity's records in one company, with the two orders that every sync reads in kept ready: by Id and
 * by LastUpdatedTime. Queries walk these instead of sorting, so page N of a 100k-record table costs a page.
 */
export class EntityTable {
  readonly entity: EntityName;
  readonly byId = new Map<string, Row>();
  /** Ascending Id; ids only grow, so appends keep it sorted. */
  readonly idOrder: Row[] = [];
  /** Ascending (updatedMs, Id). */
  readonly updatedOrder: Row[] = [];
  /** Bumped on every change; caches of sorted query results key on it. */
  version = 0;
  #nextId = 1;

  constructor(entity: EntityName) {
    this.entity = entity;
  }

  nextId(): string {
    return String(this.#nextId++);
  }

  get(id: string): Row | undefined {
    return this.byId.get(id);
  }

  insert(id: string, data: QboObject, createdMs: number, updatedMs = createdMs): Row {
    const idNum = Number(id);
    if (idNum >= this.#nextId) this.#nextId = idNum + 1;
    const row: Row = {
      entity: this.entity,
      id,
      idNum,
      data,
      json: undefined,
      createdMs,
      updatedMs,
      deleted: false,
    };
    this.byId.set(id, row);
    this.idOrder.push(row);
    this.#placeUpdated(row);
    this.version++;
    return row;
  }

  /** Replaces a row's data; `touch` moves it in the LastUpdatedTime order (balance-only changes do not). */
  replace(row: Row, data: QboObject, updatedMs: number | undefined, deleted = row.deleted): void {
    if (updatedMs !== undefined && updatedMs !== row.updatedMs) {
      this.#removeUpdated(row);
      row.updatedMs = updatedMs;
      this.#placeUpdated(row);
    }
    row.data = data;
    row.json = undefined;
    row.deleted = deleted;
    this.version++;
  }

  /** Bulk load for seeding: rows arrive in Id order; the LastUpdatedTime order is sorted once at the end. */
  load(rows: readonly Row[]): void {
    for (const row of rows) {
      this.byId.set(row.id, row);
      this.idOrder.push(row);
      this.updatedOrder.push(row);
      if (row.idNum >= this.#nextId) this.#nextId = row.idNum + 1;
    }
    this.updatedOrder.sort(byUpdated);
    this.version++;
  }

  /** Index of the first row in updatedOrder with updatedMs >= ms. */
  firstUpdatedAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.updatedOrder.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.updatedOrder[mid] as Row).updatedMs < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #position(row: Row): number {
    let lo = 0;
    let hi = this.updatedOrder.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byUpdated(this.updatedOrder[mid] as Row, row) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #placeUpdated(row: Row): void {
    const last = this.updatedOrder[this.updatedOrder.length - 1];
    if (!last || byUpdated(last, row) < 0) this.updatedOrder.push(row);
    else this.updatedOrder.splice(this.#position(row), 0, row);
  }

  #removeUpdated(row: Row): void {
    const at = this.#position(row);
    if (this.updatedOrder[at] === row) this.updatedOrder.splice(at, 1);
  }
}
