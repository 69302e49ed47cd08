import { faults } from '../fault.js';
import { compact, fields, isRecord, USD, withActiveSuffix } from './common.js';
import type { EntityDeclaration } from './declare.js';

/** AccountType → [Classification, default AccountSubType] (qbo-api-facts §4.2). */
export const ACCOUNT_TYPES: Readonly<Record<string, readonly [string, string]>> = {
  Bank: ['Asset', 'Checking'],
  'Accounts Receivable': ['Asset', 'AccountsReceivable'],
  'Other Current Asset': ['Asset', 'OtherCurrentAssets'],
  'Fixed Asset': ['Asset', 'MachineryAndEquipment'],
  'Other Asset': ['Asset', 'OtherLongTermAssets'],
  'Accounts Payable': ['Liability', 'AccountsPayable'],
  'Credit Card': ['Liability', 'CreditCard'],
  'Other Current Liability': ['Liability', 'OtherCurrentLiabilities'],
  'Long Term Liability': ['Liability', 'OtherLongTermLiabilities'],
  Equity: ['Equity', 'OpeningBalanceEquity'],
  Income: ['Revenue', 'SalesOfProductIncome'],
  'Other Income': ['Revenue', 'OtherMiscellaneousIncome'],
  'Cost of Goods Sold': ['Expense', 'SuppliesMaterialsCogs'],
  Expense: ['Expense', 'OfficeGeneralAdministrativeExpenses'],
  'Other Expense': ['Expense', 'OtherMiscellaneousExpense'],
};

export const account: EntityDeclaration = {
  name: 'Account',
  kind: 'name-list',
  required: ['Name', 'AccountType'],
  fields: fields([
    ['Name', 'string'],
    ['Active', 'boolean'],
    ['AccountType', 'string'],
    ['AccountSubType', 'string'],
    ['Classification', 'string'],
    ['CurrentBalance', 'number'],
    ['FullyQualifiedName', 'string'],
    ['SubAccount', 'boolean'],
    ['AcctNum', 'string'],
  ]),
  writable: [
    'Name',
    'AccountType',
    'AccountSubType',
    'AcctNum',
    'Description',
    'Active',
    'SubAccount',
    'ParentRef',
    'CurrencyRef',
  ],
  readOnly: ['Classification', 'CurrentBalance', 'CurrentBalanceWithSubAccounts', 'FullyQualifiedName'],
  unique: { field: 'Name', scope: 'account' },
  normalize(input, _lookup, existing) {
    const name = typeof input.Name === 'string' ? input.Name.trim() : '';
    if (name === '') throw faults.required('Name');
    const type = input.AccountType;
    if (type === undefined) throw faults.required('AccountType');
    const known = typeof type === 'string' ? ACCOUNT_TYPES[type] : undefined;
    if (!known) throw faults.invalidProperty('Property Name:AccountType specified is unsupported or invalid');
    const active = input.Active === undefined ? true : input.Active === true || input.Active === 'true';
    const fullName = withActiveSuffix(name, active);
    const balance = typeof existing?.data.CurrentBalance === 'number' ? existing.data.CurrentBalance : 0;
    return compact({
      ...input,
      Name: fullName,
      SubAccount: input.SubAccount ?? false,
      FullyQualifiedName: fullName,
      Active: active,
      Classification: known[0],
      AccountType: type,
      AccountSubType: input.AccountSubType ?? known[1],
      CurrentBalance: balance,
      CurrentBalanceWithSubAccounts: balance,
      CurrencyRef: isRecord(input.CurrencyRef) ? input.CurrencyRef : USD,
    });
  },
};
