import { account } from './account.js';
import { customer } from './customer.js';
import { invoice } from './invoice.js';
import { item } from './item.js';
import { payment } from './payment.js';
import type { EntityDef, EntityName } from './types.js';
import { vendor } from './vendor.js';

export const ENTITY_DEFS: Readonly<Record<EntityName, EntityDef>> = {
  Customer: customer,
  Vendor: vendor,
  Item: item,
  Account: account,
  Invoice: invoice,
  Payment: payment,
};

const byLowerName = new Map(Object.values(ENTITY_DEFS).map((d) => [d.name.toLowerCase(), d]));

/** Entity names are case-insensitive in queries, CDC and URLs (`customer`, `Customer`, `cUstomer`). */
export const entityDef = (name: string): EntityDef | undefined => byLowerName.get(name.toLowerCase());
