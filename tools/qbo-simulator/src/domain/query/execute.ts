import type { Company } from '../company.js';
import { entityDef } from '../entities/registry.js';
import type { EntityDef, FieldSpec, QboObject, Row } from '../entities/types.js';
import { faults } from '../fault.js';
import { assertReadable, type PoisonCheck } from '../poison.js';
import type { EntityTable } from '../table.js';
import { type Key, keyOf, reader, resolveField } from './fields.js';
import { type Condition, type ParsedQuery, parseQuery } from './parse.js';

export const MAX_RESULTS = 1000;
export const DEFAULT_MAX_RESULTS = 100;

export type QueryAnswer =
  | { kind: 'count'; totalCount: number }
  | {
      kind: 'rows';
      def: EntityDef;
      startPosition: number;
      rows: Row[];
      fields: FieldSpec[] | undefined;
      names: string[];
    };

type Predicate = (row: Row) => boolean;

function likeMatcher(pattern: string): (value: string) => boolean {
  const regex = new RegExp(
    `^${pattern
      .toLowerCase()
      .split('%')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return (value) => regex.test(value);
}

/** `' '` (a space in quotes) is how the query language writes null (qbo-api-facts §2.4). */
const isNull = (literal: Condition['values'][number] | undefined) =>
  literal?.kind === 'string' && literal.value === ' ';

function compile(def: EntityDef, condition: Condition): Predicate {
  const spec = resolveField(def, condition.field, 'filter') as FieldSpec;
  const read = reader(spec);
  const { op } = condition;
  if (op === '=' && isNull(condition.values[0])) return (row) => read(row) === undefined;
  if (spec.type === 'id' && op !== '=' && op !== 'IN') {
    throw faults.queryInvalid(`Operator ${op} is not supported for property ${spec.path}`);
  }
  if (op === 'LIKE') {
    if (spec.type !== 'string')
      throw faults.queryInvalid(`Operator LIKE is not supported for property ${spec.path}`);
    const matches = likeMatcher(String((condition.values[0] as { value: unknown }).value));
    return (row) => {
      const v = read(row);
      return typeof v === 'string' && matches(v);
    };
  }
  const keys = condition.values.map((literal) => keyOf(spec, literal));
  if (op === 'IN') {
    const set = new Set<Key>(keys);
    return (row) => set.has(read(row));
  }
  const key = keys[0] as NonNullable<Key>;
  switch (op) {
    case '=':
      return (row) => read(row) === key;
    case '<':
      return (row) => {
        const v = read(row);
        return v !== undefined && v < key;
      };
    case '>':
      return (row) => {
        const v = read(row);
        return v !== undefined && v > key;
      };
    case '<=':
      return (row) => {
        const v = read(row);
        return v !== undefined && v <= key;
      };
    case '>=':
      return (row) => {
        const v = read(row);
        return v !== undefined && v >= key;
      };
  }
}

function compare(a: Key, b: Key): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}

/** Sorted full results for orders no index serves, reused while the table is unchanged (paging re-asks). */
const sortedCache = new WeakMap<EntityTable, Map<string, { version: number; rows: Row[] }>>();

function sortedRows(table: EntityTable, cacheKey: string, build: () => Row[]): Row[] {
  let cache = sortedCache.get(table);
  if (!cache) {
    cache = new Map();
    sortedCache.set(table, cache);
  }
  const hit = cache.get(cacheKey);
  if (hit && hit.version === table.version) return hit.rows;
  const rows = build();
  if (cache.size >= 16) cache.delete(cache.keys().next().value as string);
  cache.set(cacheKey, { version: table.version, rows });
  return rows;
}

/** Where to start in the LastUpdatedTime order when the query bounds it from below. */
function lowerBound(conditions: readonly Condition[], def: EntityDef): number | undefined {
  let bound: number | undefined;
  for (const c of conditions) {
    if (
      (c.op === '>=' || c.op === '>' || c.op === '=') &&
      c.field.toLowerCase() === 'metadata.lastupdatedtime'
    ) {
      const spec = def.fields['metadata.lastupdatedtime'] as FieldSpec;
      const ms = keyOf(spec, c.values[0] as Condition['values'][number]) as number;
      bound = bound === undefined ? ms : Math.max(bound, ms);
    }
  }
  return bound;
}

/**
 * Where the previous page of the same query stopped: sequential paging (STARTPOSITION 1, 1001, 2001, …)
 * resumes from there instead of re-matching every earlier row. Keyed by table version, so any write resets.
 */
const resumeCache = new WeakMap<
  readonly Row[],
  { version: number; key: string; positions: Map<number, number> }
>();

interface Walk {
  rows: readonly Row[];
  version: number;
  /** The query without its paging, identifying which rows match. */
  key: string;
  from: number;
  step: 1 | -1;
}

/** Walks the rows in `step` direction, skipping to STARTPOSITION and stopping after a page. */
function collect(walk: Walk, matches: Predicate, skip: number, limit: number): Row[] {
  const { rows, step } = walk;
  let memo = resumeCache.get(rows);
  if (!memo || memo.version !== walk.version || memo.key !== walk.key) {
    memo = { version: walk.version, key: walk.key, positions: new Map() };
    resumeCache.set(rows, memo);
  }
  const out: Row[] = [];
  let skipped = 0;
  let i = step === 1 ? walk.from : rows.length - 1;
  const resume = memo.positions.get(skip);
  if (resume !== undefined) {
    i = resume;
    skipped = skip;
  }
  for (; i >= 0 && i < rows.length && out.length < limit; i += step) {
    const row = rows[i] as Row;
    if (!matches(row)) continue;
    if (skipped < skip) skipped++;
    else out.push(row);
  }
  if (out.length === limit) memo.positions.set(skip + limit, i);
  return out;
}

export interface QueryOptions {
  /** Records a page must not contain (poison faults). */
  poison?: PoisonCheck | undefined;
}

export function runQuery(company: Company, parsed: ParsedQuery, options: QueryOptions = {}): QueryAnswer {
  const def = entityDef(parsed.entity);
  if (!def) throw faults.queryInvalid(`Entity ${parsed.entity} is not supported`);
  if (parsed.maxResults !== undefined && parsed.maxResults > MAX_RESULTS) {
    throw faults.queryInvalid(`value ${parsed.maxResults} is too large. Max allowed value is ${MAX_RESULTS}`);
  }
  const predicates = parsed.where.map((c) => compile(def, c));
  // A plain query of a name list sees active records only; `Active IN (true,false)` widens it (§2.6).
  if (def.kind === 'name-list' && !parsed.where.some((c) => c.field.toLowerCase() === 'active')) {
    predicates.push((row) => row.data.Active === true);
  }
  const hidden = company.hidden;
  const matches: Predicate = (row) => !row.deleted && !hidden?.has(row) && predicates.every((p) => p(row));
  const table = company.tables[def.name];

  if (parsed.select.kind === 'count') {
    let totalCount = 0;
    for (const row of table.idOrder) if (matches(row)) totalCount++;
    return { kind: 'count', totalCount };
  }

  const projection =
    parsed.select.kind === 'fields'
      ? parsed.select.fields.map((f) => resolveField(def, f, 'select'))
      : undefined;
  const names = parsed.select.kind === 'fields' ? parsed.select.fields : [];
  const startPosition = Math.max(1, parsed.startPosition ?? 1);
  const skip = startPosition - 1;
  const limit = parsed.maxResults === undefined ? DEFAULT_MAX_RESULTS : Math.max(0, parsed.maxResults);
  const order = parsed.orderBy.map((o) => ({
    spec: resolveField(def, o.field, 'sort') as FieldSpec,
    desc: o.desc,
  }));
  const single = order.length === 1 ? order[0] : undefined;

  const key = JSON.stringify([parsed.where, parsed.orderBy]);
  let rows: Row[];
  if (order.length === 0 || (single && single.spec.type === 'id')) {
    const walk: Walk = {
      rows: table.idOrder,
      version: table.version,
      key,
      from: 0,
      step: single?.desc ? -1 : 1,
    };
    rows = collect(walk, matches, skip, limit);
  } else if (single && single.spec.path === 'MetaData.LastUpdatedTime') {
    const bound = single.desc ? undefined : lowerBound(parsed.where, def);
    const from = bound === undefined ? 0 : table.firstUpdatedAtOrAfter(bound);
    const walk: Walk = {
      rows: table.updatedOrder,
      version: table.version,
      key,
      from,
      step: single.desc ? -1 : 1,
    };
    rows = collect(walk, matches, skip, limit);
  } else {
    const readers = order.map((o) => ({ read: reader(o.spec), sign: o.desc ? -1 : 1 }));
    const sorted = sortedRows(table, key, () =>
      table.idOrder.filter(matches).sort((a, b) => {
        for (const { read, sign } of readers) {
          const c = compare(read(a), read(b));
          if (c !== 0) return c * sign;
        }
        return a.idNum - b.idNum;
      }),
    );
    rows = sorted.slice(skip, skip + limit);
  }
  assertReadable(rows, options.poison);
  return { kind: 'rows', def, startPosition, rows, fields: projection as FieldSpec[] | undefined, names };
}

export function executeQuery(
  company: Company,
  text: string,
  options: QueryOptions & { now?: number } = {},
): QueryAnswer {
  return runQuery(company, parseQuery(text, options.now), options);
}

export const rowJson = (row: Row): string => {
  row.json ??= JSON.stringify(row.data);
  return row.json;
};

function projected(row: Row, names: readonly string[]): string {
  const out: QboObject = {};
  for (const name of names) {
    const top = Object.keys(row.data).find((k) => k.toLowerCase() === name.split('.')[0]?.toLowerCase());
    if (top !== undefined) out[top] = row.data[top];
  }
  return JSON.stringify({ ...out, domain: 'QBO', sparse: true, Id: row.id });
}

/**
 * The `QueryResponse` object as JSON text: rows under the canonical entity name, `maxResults` = rows
 * returned (clients page while it equals their page size), `{}` when nothing matched, `totalCount` alone
 * for COUNT (qbo-api-facts §2.5).
 */
export function queryResponseJson(answer: QueryAnswer): string {
  if (answer.kind === 'count') return `{"totalCount":${answer.totalCount}}`;
  if (answer.rows.length === 0) return '{}';
  const items = answer.fields ? answer.rows.map((r) => projected(r, answer.names)) : answer.rows.map(rowJson);
  return `{"${answer.def.name}":[${items.join(',')}],"startPosition":${answer.startPosition},"maxResults":${answer.rows.length}}`;
}
