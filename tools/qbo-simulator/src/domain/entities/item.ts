import { faults } from '../fault.js';
import { asNumber, compact, fields, resolveRef, withActiveSuffix } from './common.js';
import type { EntityDeclaration } from './declare.js';
import type { QboObject } from './types.js';

const TYPES = ['Inventory', 'NonInventory', 'Service', 'Category', 'Group'];
const accountName = (d: QboObject) => d.Name;

export const item: EntityDeclaration = {
  name: 'Item',
  kind: 'name-list',
  required: ['Name'],
  fields: fields([
    ['Name', 'string'],
    ['Active', 'boolean'],
    ['Type', 'string'],
    ['Sku', 'string'],
    ['FullyQualifiedName', 'string'],
    ['UnitPrice', 'number'],
    ['QtyOnHand', 'number'],
  ]),
  writable: [
    'Name',
    'Type',
    'Description',
    'Active',
    'SubItem',
    'ParentRef',
    'IncomeAccountRef',
    'ExpenseAccountRef',
    'AssetAccountRef',
    'UnitPrice',
    'PurchaseCost',
    'PurchaseDesc',
    'TrackQtyOnHand',
    'QtyOnHand',
    'InvStartDate',
    'Sku',
    'Taxable',
    'SalesTaxIncluded',
  ],
  readOnly: ['FullyQualifiedName', 'Level'],
  unique: { field: 'Name', scope: 'item' },
  normalize(input, lookup) {
    const name = typeof input.Name === 'string' ? input.Name.trim() : '';
    if (name === '') throw faults.required('Name');
    const type = typeof input.Type === 'string' ? input.Type : 'Service';
    if (!TYPES.includes(type))
      throw faults.invalidProperty('Property Name:Type specified is unsupported or invalid');
    const inventory = type === 'Inventory';
    if (
      (type === 'Service' || type === 'NonInventory' || inventory) &&
      input.IncomeAccountRef === undefined
    ) {
      throw faults.required('IncomeAccountRef');
    }
    if (inventory && input.AssetAccountRef === undefined) throw faults.required('AssetAccountRef');
    const ref = (key: string) =>
      input[key] === undefined ? undefined : resolveRef(lookup, 'Account', input[key], key, accountName);
    const active = input.Active === undefined ? true : input.Active === true || input.Active === 'true';
    const fullName = withActiveSuffix(name, active);
    return compact({
      ...input,
      Name: fullName,
      Type: type,
      Active: active,
      FullyQualifiedName: fullName,
      Taxable: input.Taxable ?? false,
      UnitPrice: input.UnitPrice === undefined ? 0 : asNumber(input.UnitPrice, 'UnitPrice'),
      PurchaseCost: input.PurchaseCost === undefined ? 0 : asNumber(input.PurchaseCost, 'PurchaseCost'),
      TrackQtyOnHand: inventory,
      QtyOnHand: inventory ? asNumber(input.QtyOnHand ?? 0, 'QtyOnHand') : undefined,
      IncomeAccountRef: ref('IncomeAccountRef'),
      ExpenseAccountRef: ref('ExpenseAccountRef'),
      AssetAccountRef: ref('AssetAccountRef'),
    });
  },
};
