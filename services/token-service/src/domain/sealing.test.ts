import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseKeyRing } from './key-ring.js';
import { open, SealError, seal, sealedKid } from './sealing.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring = parseKeyRing(`k1:${k1.toString('base64')}, k2:${k2.toString('base64')}`, 'k2');
const secret = Buffer.from('AB11570127472xkApQcsuqTXgmXTmslIuWq7qhxlcMWHfC');

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof SealError ? err.code : 'other';
  }
  return 'none';
};

describe('sealing', () => {
  it('round-trips under the active key and never contains the plaintext', () => {
    const sealed = seal(secret, ring.active, 'conn-1|refresh_token|3');
    assert.equal(sealedKid(sealed), 'k2');
    assert.ok(!sealed.includes(secret.toString()));
    assert.ok(!Buffer.from(sealed).includes(secret));
    assert.deepEqual(open(sealed, ring.get, 'conn-1|refresh_token|3'), secret);
  });

  it('seals the same plaintext differently each time', () => {
    assert.notEqual(seal(secret, ring.active, 'a'), seal(secret, ring.active, 'a'));
  });

  it('opens values sealed under an older key after rotation', () => {
    const old = seal(secret, { kid: 'k1', key: k1 }, 'aad');
    assert.deepEqual(open(old, ring.get, 'aad'), secret);
  });

  it('refuses a value moved to another place (associated data differs)', () => {
    const sealed = seal(secret, ring.active, 'conn-1|refresh_token|3');
    assert.equal(
      code(() => open(sealed, ring.get, 'conn-2|refresh_token|3')),
      'tampered',
    );
  });

  it('refuses a flipped bit, a truncated tag, an unknown key and garbage', () => {
    const sealed = seal(secret, ring.active, 'aad');
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3] ?? '', 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    const flipped = [...parts.slice(0, 3), ct.toString('base64url'), parts[4]].join('.');
    assert.equal(
      code(() => open(flipped, ring.get, 'aad')),
      'tampered',
    );
    const shortTag = [...parts.slice(0, 4), (parts[4] ?? '').slice(0, 8)].join('.');
    assert.equal(
      code(() => open(shortTag, ring.get, 'aad')),
      'malformed',
    );
    const unknown = seal(secret, { kid: 'k9', key: randomBytes(32) }, 'aad');
    assert.equal(
      code(() => open(unknown, ring.get, 'aad')),
      'unknown_key',
    );
    assert.equal(
      code(() => open('not.sealed', ring.get, 'aad')),
      'malformed',
    );
  });
});

describe('parseKeyRing', () => {
  it('refuses short keys, duplicate ids and a missing active key without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    assert.throws(
      () => parseKeyRing(`a:${short}`, 'a'),
      (err: Error) => !err.message.includes(short),
    );
    assert.throws(() => parseKeyRing(`a:${k1.toString('base64')},a:${k2.toString('base64')}`, 'a'), /twice/);
    assert.throws(() => parseKeyRing(`a:${k1.toString('base64')}`, 'b'), /active key id b/);
    assert.throws(() => parseKeyRing(k1.toString('base64'), 'a'), /kid:base64key/);
  });
});
