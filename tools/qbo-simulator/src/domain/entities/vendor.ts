import { fields } from './common.js';
import { normalizeParty } from './party.js';
import type { EntityDef } from './types.js';

export const vendor: EntityDef = {
  name: 'Vendor',
  path: 'vendor',
  kind: 'name-list',
  fields: fields([
    ['DisplayName', 'string'],
    ['GivenName', 'string'],
    ['MiddleName', 'string'],
    ['FamilyName', 'string'],
    ['CompanyName', 'string'],
    ['PrintOnCheckName', 'string'],
    ['Active', 'boolean'],
    ['Vendor1099', 'boolean'],
    ['Balance', 'number'],
  ]),
  writable: [
    'DisplayName',
    'Title',
    'GivenName',
    'MiddleName',
    'FamilyName',
    'Suffix',
    'CompanyName',
    'PrintOnCheckName',
    'Active',
    'PrimaryEmailAddr',
    'PrimaryPhone',
    'Mobile',
    'Fax',
    'AlternatePhone',
    'WebAddr',
    'BillAddr',
    'Vendor1099',
    'AcctNum',
    'TaxIdentifier',
    'TermRef',
    'BillRate',
    'CostRate',
    'CurrencyRef',
    'Notes',
  ],
  readOnly: ['Balance'],
  unique: { field: 'DisplayName', scope: 'party' },
  canVoid: false,
  normalize(input, _lookup, existing) {
    return {
      Vendor1099: false,
      ...normalizeParty(input),
      Balance: typeof existing?.data.Balance === 'number' ? existing.data.Balance : 0,
    };
  },
};
