import { account } from './account.js';
import { customer } from './customer.js';
import { DECLARATIONS } from './declarations.js';
import { declareEntity, type EntityDeclaration } from './declare.js';
import { invoice } from './invoice.js';
import { item } from './item.js';
import { payment } from './payment.js';
import type { EntityDef, EntityName } from './types.js';
import { vendor } from './vendor.js';

/** Every entity's declaration: the first six bring their own normalizers, the rest follow the table. */
export const ALL_DECLARATIONS: readonly EntityDeclaration[] = [
  customer,
  vendor,
  item,
  account,
  invoice,
  payment,
  ...DECLARATIONS,
];

export const ENTITY_DEFS = Object.fromEntries(
  ALL_DECLARATIONS.map((d) => [d.name, declareEntity(d)]),
) as Readonly<Record<EntityName, EntityDef>>;

const byLowerName = new Map(Object.values(ENTITY_DEFS).map((d) => [d.name.toLowerCase(), d]));

/** Entity names are case-insensitive in queries, CDC and batch (`customer`, `Customer`, `cUstomer`). */
export const entityDef = (name: string): EntityDef | undefined => byLowerName.get(name.toLowerCase());
