import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applySignal, type ConnectionView } from './status.js';

const grantedAt = new Date('2026-03-01T12:00:00Z');
const later = new Date('2026-03-02T12:00:00Z');
const earlier = new Date('2026-02-28T12:00:00Z');
const view = (status: ConnectionView['status']): ConnectionView => ({ status, grantedAt });

describe('projecting token-service signals into the status view', () => {
  it('deactivation and reauthorization-required deactivate with their reason', () => {
    assert.deepEqual(
      applySignal(view('active'), { kind: 'deactivated', reason: 'invalid_grant', at: later }),
      {
        apply: true,
        status: 'deactivated',
        deactivationReason: 'invalid_grant',
      },
    );
    assert.deepEqual(
      applySignal(view('degraded'), { kind: 'reauthorization_required', reason: 'revoked', at: later }),
      { apply: true, status: 'deactivated', deactivationReason: 'revoked' },
    );
  });

  it('degraded and recovered move between active and degraded only', () => {
    assert.deepEqual(applySignal(view('active'), { kind: 'degraded', at: later }), {
      apply: true,
      status: 'degraded',
      deactivationReason: null,
    });
    assert.deepEqual(applySignal(view('degraded'), { kind: 'recovered', at: later }), {
      apply: true,
      status: 'active',
      deactivationReason: null,
    });
    assert.deepEqual(applySignal(view('deactivated'), { kind: 'recovered', at: later }), {
      apply: false,
      why: 'no_change',
    });
    assert.deepEqual(applySignal(view('deactivated'), { kind: 'degraded', at: later }), {
      apply: false,
      why: 'no_change',
    });
  });

  it('a signal about the grant before the last reconnect is ignored', () => {
    assert.deepEqual(
      applySignal(view('active'), { kind: 'deactivated', reason: 'invalid_grant', at: earlier }),
      {
        apply: false,
        why: 'stale',
      },
    );
  });

  it('a disconnected connection stays disconnected', () => {
    assert.deepEqual(
      applySignal(view('disconnected'), { kind: 'deactivated', reason: 'revoked', at: later }),
      { apply: false, why: 'disconnected' },
    );
  });
});
