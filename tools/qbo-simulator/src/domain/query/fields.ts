import { parseQboTime } from '../../qbo-time.js';
import type { EntityDef, FieldSpec, Row } from '../entities/types.js';
import { faults } from '../fault.js';
import type { Literal } from './parse.js';

/** A comparable value: numbers for amounts, instants, ids and booleans; lower-cased strings otherwise. */
export type Key = number | string | undefined;

const SYSTEM = [
  'id',
  'synctoken',
  'domain',
  'sparse',
  'metadata',
  'metadata.createtime',
  'metadata.lastupdatedtime',
];

/** Resolves a property named in a query, with Intuit's two validation errors for unknown and unqueryable ones. */
export function resolveField(
  def: EntityDef,
  name: string,
  use: 'filter' | 'sort' | 'select',
): FieldSpec | undefined {
  const lower = name.toLowerCase();
  const spec = def.fields[lower];
  if (spec && (use !== 'sort' || spec.sortable)) return spec;
  const known =
    SYSTEM.includes(lower) ||
    [...def.writable, ...def.readOnly].some((f) => f.toLowerCase() === lower.split('.')[0]);
  if (!known) throw faults.queryInvalid(`Property ${name} not found for Entity ${def.name}`);
  if (use === 'select') return undefined;
  throw faults.queryInvalid(`property '${name}' is not ${use === 'sort' ? 'sortable' : 'queryable'}`);
}

/** Reads a field's comparable value from a row. */
export function reader(spec: FieldSpec): (row: Row) => Key {
  const path = spec.path;
  switch (spec.type) {
    case 'id':
      return (row) => row.idNum;
    case 'datetime':
      return path === 'MetaData.CreateTime' ? (row) => row.createdMs : (row) => row.updatedMs;
    case 'number':
      return (row) => {
        const v = row.data[path];
        return typeof v === 'number' ? v : undefined;
      };
    case 'boolean':
      return (row) => {
        const v = row.data[path];
        return typeof v === 'boolean' ? Number(v) : undefined;
      };
    case 'ref':
      return (row) => {
        const v = (row.data[path] as { value?: string } | undefined)?.value;
        return v === undefined ? undefined : Number(v);
      };
    case 'date':
      return (row) => {
        const v = row.data[path];
        return typeof v === 'string' ? v : undefined;
      };
    case 'string':
      return (row) => {
        const v = row.data[path];
        return typeof v === 'string' ? v.toLowerCase() : undefined;
      };
  }
}

const invalidValue = (spec: FieldSpec, literal: Literal) =>
  faults.queryInvalid(
    `Invalid value ${literal.kind === 'string' ? `'${literal.value}'` : String(literal.value)} for property ${spec.path}`,
  );

/** Converts a literal to the field's comparable form; numbers may arrive quoted (`TotalAmt > '1000.0'`). */
export function keyOf(spec: FieldSpec, literal: Literal): Key {
  const raw = literal.kind === 'string' ? literal.value : literal.value;
  switch (spec.type) {
    case 'id':
    case 'ref':
    case 'number': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : Number.NaN;
      if (Number.isNaN(n)) throw invalidValue(spec, literal);
      return n;
    }
    case 'boolean':
      if (raw === true || raw === 'true') return 1;
      if (raw === false || raw === 'false') return 0;
      throw invalidValue(spec, literal);
    case 'datetime': {
      const ms = parseQboTime(String(raw));
      if (Number.isNaN(ms)) throw invalidValue(spec, literal);
      return ms;
    }
    case 'date': {
      const text = String(raw);
      if (!/^\d{4}-\d{2}-\d{2}/.test(text)) throw invalidValue(spec, literal);
      return text.slice(0, 10);
    }
    case 'string':
      return String(raw).toLowerCase();
  }
}
