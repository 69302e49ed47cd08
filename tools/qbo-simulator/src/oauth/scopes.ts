/** Scopes Intuit accepts (qbo-api-facts §1.2); a realmId comes back only with accounting or payment. */
export const KNOWN_SCOPES = new Set([
  'com.intuit.quickbooks.accounting',
  'com.intuit.quickbooks.payment',
  'openid',
  'profile',
  'email',
  'phone',
  'address',
  'payroll.compensation.read',
  'project-management.project',
  'app-foundations.custom-dimensions.read',
  'app-foundations.custom-field-definitions',
  'time-tracking.time-entry',
  'indirect-tax.tax-calculation.quickbooks',
]);

/** Space-separated; `+` from URLSearchParams-style encoders arrives already decoded to a space. */
export const parseScopes = (scope: string | undefined): string[] =>
  (scope ?? '')
    .split(/[\s+]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export const grantsRealm = (scopes: readonly string[]) =>
  scopes.includes('com.intuit.quickbooks.accounting') || scopes.includes('com.intuit.quickbooks.payment');
