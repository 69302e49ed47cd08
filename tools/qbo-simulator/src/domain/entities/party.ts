import { faults } from '../fault.js';
import { compact, isRecord, USD, withActiveSuffix } from './common.js';
import type { QboObject } from './types.js';

const NAME_PARTS = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'] as const;

/** The writable name properties Customer, Vendor and Employee share. */
export const PARTY_NAME_FIELDS = ['DisplayName', ...NAME_PARTS] as const;

/**
 * What Customer and Vendor share: DisplayName from the name parts when absent (create needs DisplayName or
 * a name part), PrintOnCheckName defaulting to it, and the inactive suffix.
 */
export function normalizeParty(input: QboObject): QboObject {
  let displayName = typeof input.DisplayName === 'string' ? input.DisplayName.trim() : '';
  if (displayName === '') {
    displayName = NAME_PARTS.map((p) => input[p])
      .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
      .join(' ');
  }
  if (displayName === '' && typeof input.CompanyName === 'string') displayName = input.CompanyName.trim();
  if (displayName === '') throw faults.required('DisplayName');
  if (/[:\t\n]/.test(displayName)) {
    throw faults.invalidProperty('Property Name:DisplayName specified is unsupported or invalid');
  }
  if (displayName.length > 500) {
    throw faults.invalidProperty(
      'String length is either shorter or longer than supported by specification. Min:0 Max:500 supported. Supplied length:' +
        displayName.length,
    );
  }
  const active = input.Active === undefined ? true : input.Active === true || input.Active === 'true';
  const name = withActiveSuffix(displayName, active);
  return compact({
    ...input,
    DisplayName: name,
    PrintOnCheckName: withActiveSuffix(
      typeof input.PrintOnCheckName === 'string' ? input.PrintOnCheckName : displayName,
      true,
    ),
    Active: active,
    CurrencyRef: isRecord(input.CurrencyRef) ? input.CurrencyRef : USD,
  });
}
