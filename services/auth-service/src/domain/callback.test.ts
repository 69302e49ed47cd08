import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeState, providerErrorCode, type StoredState } from './callback.js';

const now = new Date('2026-03-01T12:00:00Z');
const row = (over: Partial<StoredState> = {}): StoredState => ({
  stateHash: 'h',
  orgId: 'org-1',
  nonceHash: 'n',
  returnTo: 'https://app.example.com/',
  expiresAt: new Date(now.getTime() + 60_000),
  usedAt: null,
  ...over,
});
const yes = () => true;
const no = () => false;

describe('judging a callback state', () => {
  it('accepts a fresh, unspent state presented by its own browser', () => {
    assert.deepEqual(judgeState(row(), now, yes), { ok: true });
  });

  it('unknown, then reused, then expired, then cookie mismatch', () => {
    assert.deepEqual(judgeState(undefined, now, yes), { ok: false, reason: 'state_unknown' });
    assert.deepEqual(judgeState(row({ usedAt: now }), now, yes), { ok: false, reason: 'state_reused' });
    const expired = row({ expiresAt: new Date(now.getTime() - 1) });
    assert.deepEqual(judgeState(expired, now, yes), { ok: false, reason: 'state_expired' });
    assert.deepEqual(judgeState(row(), now, no), { ok: false, reason: 'cookie_mismatch' });
  });

  it('a spent state that has also expired reads as expired; the cookie is not consulted for dead states', () => {
    const dead = row({ usedAt: now, expiresAt: new Date(now.getTime() - 1) });
    assert.deepEqual(judgeState(dead, now, yes), { ok: false, reason: 'state_expired' });
    let consulted = false;
    judgeState(row({ usedAt: now }), now, () => {
      consulted = true;
      return true;
    });
    assert.equal(consulted, false);
  });

  it('expiry is exclusive: a state is dead at its expiry instant', () => {
    assert.deepEqual(judgeState(row({ expiresAt: now }), now, yes), { ok: false, reason: 'state_expired' });
  });

  it("passes Intuit's error identifiers through and summarises anything else", () => {
    assert.equal(providerErrorCode('access_denied'), 'access_denied');
    assert.equal(providerErrorCode('invalid_scope'), 'invalid_scope');
    assert.equal(providerErrorCode('<script>'), 'unrecognised');
    assert.equal(providerErrorCode('x'.repeat(65)), 'unrecognised');
  });
});
