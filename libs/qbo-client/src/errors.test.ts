import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categorise, faultField, parseFault, QboError, safeMessage } from './errors.js';

describe('parseFault', () => {
  it('reads the standard fault body', () => {
    const body = JSON.stringify({
      Fault: {
        Error: [
          {
            Message: 'Stale Object Error',
            Detail: 'Stale Object Error : You and Bob were working',
            code: '5010',
          },
        ],
        type: 'ValidationFault',
      },
      time: '2017-09-29T09:17:31.892-07:00',
    });
    assert.deepEqual(parseFault(body), {
      type: 'ValidationFault',
      code: '5010',
      message: 'Stale Object Error',
      detail: 'Stale Object Error : You and Bob were working',
    });
  });

  it("reads the gateway's lower-case 401 body", () => {
    const body = JSON.stringify({
      warnings: null,
      fault: {
        error: [
          {
            message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
            detail: 'Token expired: AB01730024136mqEofYN9fldzIcxH6lsAcqOYIbafE5z6ZdjPc',
            code: '3200',
            element: null,
          },
        ],
        type: 'AUTHENTICATION',
      },
      time: 1730024394085,
    });
    assert.equal(parseFault(body)?.code, '3200');
    assert.equal(parseFault(body)?.type, 'AUTHENTICATION');
  });

  it('reads the XML throttle fault', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse time="2024-01-01T00:00:00.000-08:00"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>';
    assert.deepEqual(parseFault(body), {
      type: 'SERVICE',
      code: '3001',
      message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      detail: 'The request limit was reached.  Try again later',
    });
  });

  it('returns nothing for bodies that are not faults', () => {
    assert.equal(parseFault('<html><body>Request Entity Too Large</body></html>'), undefined);
    assert.equal(parseFault('{"QueryResponse":{}}'), undefined);
    assert.equal(parseFault(''), undefined);
  });
});

describe('categorise', () => {
  const cases: [number, string | undefined, string][] = [
    [401, '3200', 'auth'],
    [403, '3100', 'permission'],
    [429, '3001', 'rate_limit'],
    [400, '5010', 'conflict'],
    [400, '610', 'not_found'],
    [404, undefined, 'not_found'],
    [400, '6240', 'validation'],
    [400, '4000', 'validation'],
    [500, '10000', 'server'],
    [503, undefined, 'server'],
    [504, undefined, 'timeout'],
  ];
  for (const [status, code, category] of cases) {
    it(`files ${status}${code ? `/${code}` : ''} under ${category}`, () => {
      assert.equal(categorise(status, code ? { code } : undefined), category);
    });
  }
});

describe('QboError', () => {
  it('says whether to retry and what to do', () => {
    const limited = new QboError({ category: 'rate_limit', code: '3001', message: 'throttled', attempts: 3 });
    assert.equal(limited.retryable, true);
    assert.match(limited.remediation, /60 s/);
    const stale = new QboError({
      category: 'conflict',
      code: '5010',
      message: 'stale',
      attempts: 1,
      entityType: 'Customer',
      entityId: '7',
    });
    assert.equal(stale.retryable, false);
    assert.deepEqual(
      {
        entityType: stale.toJSON().entityType,
        entityId: stale.toJSON().entityId,
        retryable: stale.toJSON().retryable,
      },
      { entityType: 'Customer', entityId: '7', retryable: false },
    );
  });

  it('keeps token fragments out of messages', () => {
    const message = safeMessage(
      {
        message: 'message=AuthenticationFailed',
        detail: 'Token expired: AB01730024136mqEofYN9fldzIcxH6lsAcqOYIbafE5z6ZdjPc',
      },
      'unauthorised',
    );
    assert.doesNotMatch(message, /AB0173/);
    assert.match(message, /Token expired: \[REDACTED\]/);
  });
});

describe('faultField', () => {
  it("takes the field from Intuit's element", () => {
    const body = JSON.stringify({
      Fault: {
        Error: [{ Message: 'Required param missing', code: '2020', element: 'Line' }],
        type: 'ValidationFault',
      },
    });
    assert.equal(faultField(parseFault(body)), 'Line');
  });

  it('takes the property a 2010 detail names when the element is empty', () => {
    const fault = { code: '2010', detail: 'Property Name:AccountType specified is unsupported or invalid' };
    assert.equal(faultField(fault), 'AccountType');
  });

  it('names no field when the fault names none', () => {
    assert.equal(faultField({ code: '6240', element: '' }), undefined);
  });
});
