import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  bindingCookie,
  bindingCookieName,
  bindingCookieOptions,
  cookieMatches,
  deriveKeys,
  fingerprint,
  pkcePair,
  randomToken,
  seal,
  sha256,
  unseal,
} from './state.js';

const keys = deriveKeys('a-cookie-secret-of-at-least-32-characters');

describe('state and browser binding', () => {
  it('states are 256-bit base64url values, never repeated', () => {
    const values = new Set(Array.from({ length: 1000 }, randomToken));
    assert.equal(values.size, 1000);
    for (const v of values) assert.match(v, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(randomToken(), 'base64url').length, 32);
  });

  it('a cookie matches only its own state and nonce', () => {
    const stateHash = sha256('state-1');
    const { value, nonceHash } = bindingCookie(keys.cookie, stateHash);
    assert.ok(cookieMatches(keys.cookie, value, stateHash, nonceHash));
    assert.ok(!cookieMatches(keys.cookie, value, sha256('state-2'), nonceHash), 'bound to the state');
    const other = bindingCookie(keys.cookie, stateHash);
    assert.ok(!cookieMatches(keys.cookie, other.value, stateHash, nonceHash), 'bound to the nonce stored');
    assert.ok(
      !cookieMatches(deriveKeys('another-secret-of-at-least-32-chars!').cookie, value, stateHash, nonceHash),
    );
  });

  it('the binding cookie is __Host- prefixed, Secure, Path=/ unless it is the plain-http development cookie', () => {
    assert.deepEqual(bindingCookieOptions(600, true), {
      path: '/',
      maxAge: 600,
      httpOnly: true,
      sameSite: 'Lax',
      secure: true,
    });
    assert.equal(bindingCookieOptions(0, false).secure, false);
    assert.equal(bindingCookieName(true), '__Host-qbo_connect');
    assert.equal(bindingCookieName(false), 'qbo_connect');
  });

  it('a tampered, truncated, missing or malformed cookie does not match', () => {
    const stateHash = sha256('state');
    const { value, nonceHash } = bindingCookie(keys.cookie, stateHash);
    const [nonce, tag] = value.split('.');
    for (const bad of [
      undefined,
      '',
      nonce,
      `${nonce}.`,
      `${nonce}.${tag?.slice(0, -1)}${tag?.endsWith('A') ? 'B' : 'A'}`,
      `${nonce}.${tag}.extra`,
      `${'x'.repeat(100)}.${tag}`,
    ]) {
      assert.ok(!cookieMatches(keys.cookie, bad, stateHash, nonceHash), String(bad));
    }
  });

  it('PKCE S256: the challenge is the base64url SHA-256 of the verifier', () => {
    const { verifier, challenge } = pkcePair();
    assert.match(verifier, /^[A-Za-z0-9_-]{43,128}$/);
    assert.equal(challenge, createHash('sha256').update(verifier).digest('base64url'));
  });

  it('sealed verifiers open with the key only, and tampering is detected', () => {
    const stateHash = sha256('state-1');
    const sealed = seal(keys.seal, 'the-verifier', stateHash);
    assert.ok(!sealed.includes('the-verifier'));
    assert.equal(unseal(keys.seal, sealed, stateHash), 'the-verifier');
    assert.throws(() => unseal(keys.cookie, sealed, stateHash));
    const [iv, tag, body] = sealed.split('.');
    const flipped = `${iv}.${tag}.${body?.startsWith('A') ? `B${body.slice(1)}` : `A${body?.slice(1)}`}`;
    assert.throws(() => unseal(keys.seal, flipped, stateHash));
  });

  it('a verifier sealed for one state does not open for another, nor with a shortened tag', () => {
    const sealed = seal(keys.seal, 'the-verifier', sha256('state-1'));
    assert.throws(() => unseal(keys.seal, sealed, sha256('state-2')));
    const [iv, tag, body] = sealed.split('.');
    const short = Buffer.from(tag ?? '', 'base64url')
      .subarray(0, 4)
      .toString('base64url');
    assert.throws(() => unseal(keys.seal, `${iv}.${short}.${body}`, sha256('state-1')), /malformed/);
  });

  it('the derived keys differ, and a fingerprint hides the address', () => {
    assert.notDeepEqual(keys.cookie, keys.seal);
    assert.notDeepEqual(keys.seal, keys.fingerprint);
    const f = fingerprint(keys.fingerprint, '203.0.113.5');
    assert.ok(!f.includes('203'));
    assert.equal(f, fingerprint(keys.fingerprint, '203.0.113.5'));
    assert.notEqual(f, fingerprint(keys.fingerprint, '203.0.113.6'));
  });
});
