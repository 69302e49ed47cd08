import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideBeforeRefresh, heldTokenServes, type Mode, type TokenFacts } from './before-refresh.js';

const NOW = 1_000_000;
const MIN = 60_000;
const aRow = (over: Partial<TokenFacts> = {}): TokenFacts => ({
  status: 'active',
  hasAccess: true,
  accessIsRejected: false,
  accessExpiresAt: NOW + 30 * MIN,
  hasRefresh: true,
  nextRefreshAt: NOW + 20 * MIN,
  forcedRefreshAt: null,
  ...over,
});
const ensure: Mode = { kind: 'ensure', minValidityMs: 5 * MIN };
const rejected: Mode = { kind: 'rejected' };
const scheduled: Mode = { kind: 'scheduled' };
const probe: Mode = { kind: 'probe' };
const decide = (mode: Mode, row: TokenFacts, appPaused = false) =>
  decideBeforeRefresh(mode, row, { now: NOW, appPaused, forcedRefreshIntervalMs: MIN });

describe('before calling Intuit', () => {
  it('serves a caller the held token when it is valid long enough', () => {
    assert.deepEqual(decide(ensure, aRow()), { action: 'serve' });
    assert.deepEqual(decide(ensure, aRow({ accessExpiresAt: NOW + 4 * MIN })), { action: 'refresh' });
  });

  it('serves a rejected caller only a different token than the one it saw refused', () => {
    assert.deepEqual(decide(rejected, aRow()), { action: 'serve' });
    assert.deepEqual(decide(rejected, aRow({ accessIsRejected: true })), { action: 'refresh' });
    assert.deepEqual(decide(rejected, aRow({ accessExpiresAt: NOW })), { action: 'refresh' });
  });

  it('refreshes when no access token is held, whatever its recorded expiry', () => {
    assert.deepEqual(decide(ensure, aRow({ hasAccess: false })), { action: 'refresh' });
  });

  it('refuses a disconnected or deactivated connection before anything else', () => {
    assert.deepEqual(decide(ensure, aRow({ status: 'disconnected' })), {
      action: 'refuse',
      reason: 'disconnected',
    });
    assert.deepEqual(decide(rejected, aRow({ status: 'deactivated' })), {
      action: 'refuse',
      reason: 'reauthorization_required',
    });
  });

  it('skips a scheduled refresh of a row that is not refreshable or no longer due', () => {
    assert.deepEqual(decide(scheduled, aRow({ status: 'deactivated' })), { action: 'skip' });
    assert.deepEqual(decide(scheduled, aRow({ status: 'disconnected' })), { action: 'skip' });
    assert.deepEqual(decide(scheduled, aRow({ nextRefreshAt: NOW + 1 })), { action: 'skip' });
    assert.deepEqual(decide(scheduled, aRow({ nextRefreshAt: null })), { action: 'skip' });
    assert.deepEqual(decide(scheduled, aRow({ nextRefreshAt: NOW })), { action: 'refresh' });
  });

  it('while the app is paused, skips scheduled refreshes and tells callers', () => {
    const due = aRow({ nextRefreshAt: NOW - 1, hasAccess: false });
    assert.deepEqual(decide(scheduled, due, true), { action: 'skip' });
    assert.deepEqual(decide(ensure, due, true), { action: 'app_paused' });
    assert.deepEqual(decide(ensure, aRow(), true), { action: 'serve' }, 'a valid token is still served');
  });

  it('makes callers of a degraded connection wait for its backoff, with any still-valid token', () => {
    const degraded = aRow({ status: 'degraded', accessExpiresAt: NOW + MIN, nextRefreshAt: NOW + 2 * MIN });
    assert.deepEqual(decide(ensure, degraded), { action: 'serve' });
    assert.deepEqual(decide(rejected, { ...degraded, accessIsRejected: true }), {
      action: 'back_off',
      retryAt: NOW + 2 * MIN,
    });
    assert.deepEqual(decide(ensure, { ...degraded, accessExpiresAt: NOW }), {
      action: 'back_off',
      retryAt: NOW + 2 * MIN,
    });
    assert.deepEqual(decide(ensure, { ...degraded, accessExpiresAt: NOW, nextRefreshAt: NOW }), {
      action: 'refresh',
    });
  });

  it('the scheduler retries a degraded row when it is due, backoff or not', () => {
    assert.deepEqual(decide(scheduled, aRow({ status: 'degraded', nextRefreshAt: NOW })), {
      action: 'refresh',
    });
  });

  it('asks for reauthorization when there is no refresh token to use', () => {
    assert.deepEqual(decide(ensure, aRow({ hasAccess: false, hasRefresh: false })), {
      action: 'refuse',
      reason: 'reauthorization_required',
    });
  });

  it('never serves a scheduled refresh from the held token', () => {
    assert.equal(heldTokenServes(scheduled, aRow(), NOW), false);
  });

  it('force-refreshes a connection for a rejected caller at most once per throttle window', () => {
    const current = aRow({ accessIsRejected: true });
    assert.deepEqual(decide(rejected, { ...current, forcedRefreshAt: NOW - 10_000 }), {
      action: 'throttled',
      retryAt: NOW + 50_000,
    });
    assert.deepEqual(decide(rejected, { ...current, forcedRefreshAt: NOW - MIN }), { action: 'refresh' });
    // A different token than the rejected one is still served during the window, and others are not throttled.
    assert.deepEqual(decide(rejected, aRow({ forcedRefreshAt: NOW - 1 })), { action: 'serve' });
    const expiring = aRow({ accessExpiresAt: NOW + MIN, forcedRefreshAt: NOW - 1 });
    assert.deepEqual(decide(ensure, expiring), { action: 'refresh' });
  });

  it('probes a paused app on a live grant whatever its token or backoff, and never a dead one', () => {
    assert.deepEqual(decide(probe, aRow(), true), { action: 'refresh' });
    assert.deepEqual(decide(probe, aRow({ status: 'degraded', nextRefreshAt: NOW + MIN }), true), {
      action: 'refresh',
    });
    assert.deepEqual(decide(probe, aRow({ status: 'deactivated' }), true), { action: 'skip' });
    assert.deepEqual(decide(probe, aRow({ hasRefresh: false }), true), { action: 'skip' });
  });
});
