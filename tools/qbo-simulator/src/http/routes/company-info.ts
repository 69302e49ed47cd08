import type { Hono } from 'hono';
import type { Core } from '../../core.js';
import { faults } from '../../domain/fault.js';
import { formatMetaTime, formatPacificDate } from '../../qbo-time.js';
import type { ApiEnv } from '../env.js';
import { sendJson, withTime } from '../respond.js';

/** `GET …/companyinfo/{realmId}`. */
export function companyInfoRoute(app: Hono<ApiEnv>, core: Core): void {
  app.get('/v3/company/:realmId/companyinfo/:id', (c) => {
    const company = c.get('company');
    if (c.req.param('id') !== company.realmId) throw faults.notFound();
    const info = {
      CompanyName: company.name,
      LegalName: company.name,
      CompanyAddr: {
        Id: '1',
        Line1: '123 Sierra Way',
        City: 'San Pablo',
        CountrySubDivisionCode: 'CA',
        PostalCode: '87999',
      },
      Country: 'US',
      CompanyStartDate: formatPacificDate(company.createdMs),
      FiscalYearStartMonth: 'January',
      SupportedLanguages: 'en',
      DefaultTimeZone: 'America/Los_Angeles',
      domain: 'QBO',
      sparse: false,
      Id: '1',
      SyncToken: '0',
      MetaData: {
        CreateTime: formatMetaTime(company.createdMs),
        LastUpdatedTime: formatMetaTime(company.createdMs),
      },
    };
    return sendJson(c, 200, withTime('CompanyInfo', JSON.stringify(info), core.clock.now()));
  });
}
