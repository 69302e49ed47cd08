import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loggedQuery, requestUrl } from './request.js';

describe('request URLs', () => {
  it('encodes path segments and sets minorversion in one place', () => {
    const url = requestUrl(
      'https://quickbooks.api.intuit.com/',
      '123',
      { operation: 'read', method: 'GET', segments: ['customer', '7'], params: { minorversion: '3' } },
      75,
    );
    assert.equal(
      url.toString(),
      'https://quickbooks.api.intuit.com/v3/company/123/customer/7?minorversion=75',
    );
  });

  it('logs only known parameters, with the SELECT text capped', () => {
    const url = new URL('https://x/v3/company/1/query');
    url.searchParams.set('query', `SELECT * FROM Customer WHERE DisplayName = '${'a'.repeat(2_000)}'`);
    url.searchParams.set('access_token', 'secret');
    url.searchParams.set('minorversion', '75');
    const logged = loggedQuery(url) ?? '';
    assert.ok(logged.length < 1_100);
    assert.doesNotMatch(logged, /secret|access_token/);
    assert.match(logged, /^query=SELECT \* FROM Customer.*…&minorversion=75$/);
  });

  it("logs a batch's items, capped, beside its parameters", () => {
    const url = new URL('https://x/v3/company/1/batch?requestid=r-1&minorversion=75');
    const items = Array.from({ length: 30 }, (_, i) => `${i}: ${'SELECT * FROM Invoice '.repeat(20)}`);
    const logged = loggedQuery(url, { itemsText: items.join('; ') }) ?? '';
    assert.match(logged, /^items=0: SELECT \* FROM Invoice .*…&requestid=r-1&minorversion=75$/);
    assert.ok(logged.length > 8_000 && logged.length < 8_100);
  });
});
