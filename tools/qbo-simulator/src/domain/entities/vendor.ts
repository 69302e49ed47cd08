import { fields } from './common.js';
import type { EntityDeclaration } from './declare.js';
import { normalizeParty, PARTY_NAME_FIELDS } from './party.js';

export const vendor: EntityDeclaration = {
  name: 'Vendor',
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
    ...PARTY_NAME_FIELDS,
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
  normalize(input, _lookup, existing) {
    return {
      Vendor1099: false,
      ...normalizeParty(input),
      Balance: typeof existing?.data.Balance === 'number' ? existing.data.Balance : 0,
    };
  },
};
