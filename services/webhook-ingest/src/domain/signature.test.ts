import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sign, verifySignature } from './signature.js';

const body = Buffer.from(
  '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[]}}]}',
);
const token = 'verifier-token-current';
const previous = 'verifier-token-previous';

describe('verifySignature', () => {
  it('accepts the HMAC of the raw bytes made with the verifier token', () => {
    assert.equal(verifySignature(body, sign(body, token), [token]), true);
  });

  it('accepts any of several tokens during a rotation', () => {
    assert.equal(verifySignature(body, sign(body, previous), [token, previous]), true);
  });

  it('rejects a missing, empty, malformed or oversized header', () => {
    for (const header of [undefined, '', 'not base64 at all!!', 'A'.repeat(200)]) {
      assert.equal(verifySignature(body, header, [token]), false, String(header));
    }
  });

  it('rejects a body changed by one byte, or re-serialised', () => {
    const signature = sign(body, token);
    const tampered = Buffer.from(body);
    tampered[tampered.length - 2] = 0x20;
    assert.equal(verifySignature(tampered, signature, [token]), false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    assert.equal(verifySignature(reserialised, signature, [token]), false);
  });

  it('rejects a signature made with another key', () => {
    assert.equal(verifySignature(body, sign(body, 'someone-elses-token'), [token]), false);
  });

  it('rejects a truncated signature', () => {
    const signature = sign(body, token);
    assert.equal(verifySignature(body, signature.slice(0, 20), [token]), false);
  });
});
