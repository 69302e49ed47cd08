import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backoffMs,
  type Decision,
  decide,
  defaultBackoff,
  type Health,
  type Outcome,
} from './refresh-health.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const unavailable: Outcome = { ok: false, kind: 'transient', cause: 'intuit_unavailable', code: '503' };
const fixed = { random: () => 0.5 };

/** Applies outcomes one minute apart and collects every change. */
function run(outcomes: Outcome[], start: Health = { status: 'healthy' }) {
  let health = start;
  const decisions: Decision[] = [];
  outcomes.forEach((outcome, i) => {
    const d = decide(health, outcome, T0 + i * 60_000, fixed);
    decisions.push(d);
    health = d.health;
  });
  return { health, decisions, changes: decisions.flatMap((d) => d.changes) };
}

describe('refresh health', () => {
  it('degrades once through a 30-minute outage and recovers once, never deactivating', () => {
    const { health, changes } = run([...Array(30).fill(unavailable), { ok: true }]);
    assert.deepEqual(health, { status: 'healthy' });
    assert.deepEqual(
      changes.map((c) => c.type),
      ['ConnectionDegraded', 'ConnectionRecovered'],
    );
    assert.deepEqual(changes[1], {
      type: 'ConnectionRecovered',
      degradedSince: T0,
      attempts: 30,
      recoveredAt: T0 + 30 * 60_000,
    });
  });

  it('treats throttling, timeouts and network errors as transient too', () => {
    for (const cause of ['rate_limited', 'timeout', 'network'] as const) {
      const { health } = run(Array(10).fill({ ok: false, kind: 'transient', cause }));
      assert.equal(health.status, 'degraded', cause);
    }
  });

  it('deactivates a dead grant once, asking for reauthorisation, and stays quiet after', () => {
    const dead: Outcome = {
      ok: false,
      kind: 'grant_rejected',
      reason: 'invalid_grant',
      code: 'invalid_grant',
    };
    const { health, changes } = run([unavailable, dead, dead, { ok: true }]);
    assert.equal(health.status, 'deactivated');
    assert.deepEqual(
      changes.map((c) => c.type),
      ['ConnectionDegraded', 'ConnectionDeactivated', 'ReauthorizationRequired'],
    );
    assert.equal(changes[1]?.type === 'ConnectionDeactivated' && changes[1].attempts, 2);
  });

  it('pauses the app on rejected app credentials without deactivating the connection', () => {
    const d = decide({ status: 'healthy' }, { ok: false, kind: 'app_rejected', code: 'invalid_client' }, T0);
    assert.equal(d.pauseApp, true);
    assert.deepEqual(d.health, { status: 'healthy' });
    assert.deepEqual(
      d.changes.map((c) => c.type),
      ['AppCredentialsRejected'],
    );
  });

  it('backs off exponentially with jitter up to a cap', () => {
    const low = () => 0;
    const high = () => 0.999999;
    assert.equal(backoffMs(1, defaultBackoff, low), 15_000);
    assert.equal(backoffMs(1, defaultBackoff, high), 30_000);
    assert.equal(backoffMs(3, defaultBackoff, high), 120_000);
    assert.equal(backoffMs(20, defaultBackoff, high), defaultBackoff.maxMs);
    const { decisions } = run([unavailable, unavailable, unavailable]);
    const waits = decisions.map((d, i) => (d.retryAt ?? 0) - (T0 + i * 60_000));
    assert.deepEqual(waits, [22_500, 45_000, 90_000]);
  });
});
