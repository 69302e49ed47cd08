import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReturnTo, withOutcome } from './return-to.js';

const allowed = ['https://app.example.com', 'http://localhost:5173'];

describe('returnTo allowlist', () => {
  it('accepts URLs on an allowlisted origin, exactly', () => {
    assert.deepEqual(checkReturnTo('https://app.example.com/settings?tab=qbo', allowed), {
      ok: true,
      url: 'https://app.example.com/settings?tab=qbo',
    });
    assert.equal(checkReturnTo('http://localhost:5173/x', allowed).ok, true);
  });

  it('defaults to the first origin when absent', () => {
    assert.deepEqual(checkReturnTo(undefined, allowed), { ok: true, url: 'https://app.example.com/' });
    assert.deepEqual(checkReturnTo('', allowed), { ok: true, url: 'https://app.example.com/' });
  });

  it('refuses look-alikes, other ports and schemes, userinfo tricks and relative URLs', () => {
    const cases: [string, string][] = [
      ['https://evil.example/', 'not_allowed'],
      ['https://app.example.com.evil.example/', 'not_allowed'],
      ['https://evil.example/https://app.example.com', 'not_allowed'],
      ['https://app.example.com@evil.example/', 'not_allowed'],
      ['https://user:pw@app.example.com/', 'not_allowed'],
      ['http://app.example.com/', 'not_allowed'],
      ['https://app.example.com:8443/', 'not_allowed'],
      ['http://localhost:5174/', 'not_allowed'],
      ['//evil.example/', 'malformed'],
      ['/relative', 'malformed'],
      ['javascript:alert(1)', 'malformed'],
      ['data:text/html,hi', 'malformed'],
      [`https://app.example.com/${'a'.repeat(2100)}`, 'malformed'],
    ];
    for (const [raw, reason] of cases) {
      const r = checkReturnTo(raw, allowed);
      assert.equal(r.ok, false, raw);
      if (!r.ok) assert.equal(r.reason, reason, raw);
    }
  });

  it('an upper-case spelling of an allowed origin normalises to it and is accepted', () => {
    assert.equal(checkReturnTo('HTTPS://APP.EXAMPLE.COM/x', allowed).ok, true);
  });

  it('adds outcome flags and drops the fragment', () => {
    assert.equal(
      withOutcome('https://app.example.com/s?tab=1#frag', { connection: 'c1', status: 'connected' }),
      'https://app.example.com/s?tab=1&connection=c1&status=connected',
    );
  });
});
