import { formatMetaTime } from '../qbo-time.js';
import type { Company } from './company.js';
import type { Row } from './entities/types.js';

/**
 * TaxCode is read-only through the API (created by QuickBooks' tax setup), so every company starts with
 * two. US companies also accept the pseudo codes `TAX` and `NON` in `TaxCodeRef`, which are not records.
 */
const TAX_CODES = [
  { Name: 'California', Description: 'California sales tax', Taxable: true, TaxGroup: true },
  { Name: 'Out of state', Description: 'Out of state', Taxable: false, TaxGroup: false },
];

export function seedTaxCodes(company: Company, now: number): void {
  const rows: Row[] = TAX_CODES.map((code, i) => {
    const id = String(i + 2);
    return {
      entity: 'TaxCode',
      id,
      idNum: i + 2,
      json: undefined,
      createdMs: now,
      updatedMs: now,
      deleted: false,
      data: {
        ...code,
        Active: true,
        Hidden: false,
        domain: 'QBO',
        sparse: false,
        Id: id,
        SyncToken: '0',
        MetaData: { CreateTime: formatMetaTime(now), LastUpdatedTime: formatMetaTime(now) },
      },
    };
  });
  company.tables.TaxCode.load(rows);
  for (const row of rows) company.indexName(row, undefined);
}
