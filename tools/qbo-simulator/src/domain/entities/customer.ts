import { fields } from './common.js';
import type { EntityDeclaration } from './declare.js';
import { normalizeParty, PARTY_NAME_FIELDS } from './party.js';

export const customer: EntityDeclaration = {
  name: 'Customer',
  kind: 'name-list',
  fields: fields([
    ['DisplayName', 'string'],
    ['GivenName', 'string'],
    ['MiddleName', 'string'],
    ['FamilyName', 'string'],
    ['CompanyName', 'string'],
    ['PrintOnCheckName', 'string'],
    ['FullyQualifiedName', 'string'],
    ['Active', 'boolean'],
    ['Job', 'boolean'],
    ['Balance', 'number'],
    ['BalanceWithJobs', 'number'],
  ]),
  writable: [
    ...PARTY_NAME_FIELDS,
    'CompanyName',
    'PrintOnCheckName',
    'Active',
    'Job',
    'ParentRef',
    'BillWithParent',
    'Taxable',
    'PrimaryEmailAddr',
    'PrimaryPhone',
    'Mobile',
    'Fax',
    'AlternatePhone',
    'WebAddr',
    'BillAddr',
    'ShipAddr',
    'Notes',
    'SalesTermRef',
    'PaymentMethodRef',
    'CurrencyRef',
    'PreferredDeliveryMethod',
    'ResaleNum',
  ],
  readOnly: ['FullyQualifiedName', 'Balance', 'BalanceWithJobs', 'Level'],
  unique: { field: 'DisplayName', scope: 'party' },
  normalize(input, _lookup, existing) {
    const party = normalizeParty(input);
    const balance = typeof existing?.data.Balance === 'number' ? existing.data.Balance : 0;
    return {
      Taxable: false,
      Job: false,
      BillWithParent: false,
      PreferredDeliveryMethod: 'Print',
      ...party,
      FullyQualifiedName: party.DisplayName,
      Balance: balance,
      BalanceWithJobs: balance,
    };
  },
};
