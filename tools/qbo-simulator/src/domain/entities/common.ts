import { faults } from '../fault.js';
import type { EntityLookup, EntityName, FieldSpec, FieldType, QboObject } from './types.js';

export function fields(
  entries: readonly (readonly [path: string, type: FieldType, sortable?: boolean])[],
): Record<string, FieldSpec> {
  const all: (readonly [string, FieldType, boolean?])[] = [
    ['Id', 'id'],
    ['MetaData.CreateTime', 'datetime'],
    ['MetaData.LastUpdatedTime', 'datetime'],
    ...entries,
  ];
  return Object.fromEntries(
    all.map(([path, type, sortable = true]) => [path.toLowerCase(), { path, type, sortable }]),
  );
}

export const USD = { value: 'USD', name: 'United States Dollar' } as const;

/** Rounds to cents the way amounts are shown. */
export const cents = (n: number) => Math.round(n * 100) / 100;

export function asNumber(value: unknown, param: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw faults.invalidProperty(`Property Name:${param} specified is unsupported or invalid`);
  }
  return n;
}

export function asString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

export const isRecord = (v: unknown): v is QboObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A `*Ref` pointing at an existing record, with `name` filled from it. Unknown or deleted targets fail with
 * Intuit's Object Not Found (qbo-api-facts §4.3).
 */
export function resolveRef(
  lookup: EntityLookup,
  entity: EntityName,
  ref: unknown,
  param: string,
  nameOf: (data: QboObject) => unknown,
): { value: string; name?: string } {
  if (!isRecord(ref) || ref.value === undefined || ref.value === '') throw faults.required(param);
  const id = String(ref.value);
  const row = lookup.find(entity, id);
  if (!row || row.deleted) throw faults.notFound();
  const name = nameOf(row.data);
  return typeof name === 'string' ? { value: id, name } : { value: id };
}

export const DELETED_SUFFIX = ' (deleted)';

/** Inactive name-list records carry ` (deleted)` after their name (qbo-api-facts §2.6); reactivation drops it. */
export function withActiveSuffix(name: string, active: boolean): string {
  const bare = name.endsWith(DELETED_SUFFIX) ? name.slice(0, -DELETED_SUFFIX.length) : name;
  return active ? bare : `${bare}${DELETED_SUFFIX}`;
}

/** Drops undefined values so empty attributes are omitted, never null (qbo-api-facts §8.4). */
export function compact(object: QboObject): QboObject {
  const out: QboObject = {};
  for (const [k, v] of Object.entries(object)) if (v !== undefined) out[k] = v;
  return out;
}
