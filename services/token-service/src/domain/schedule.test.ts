import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daysLeft, nextRefreshAt } from './schedule.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const base = {
  now: T0,
  accessExpiresAt: T0 + HOUR,
  refreshExpiresAt: T0 + 101 * DAY,
  marginMs: 5 * 60_000,
  activeWindowMs: 2 * HOUR,
  keepAliveMs: 7 * DAY,
};

describe('refresh schedule', () => {
  it('refreshes a connection in use between one and two margins before its token expires', () => {
    const early = nextRefreshAt({ ...base, lastUsedAt: T0, random: () => 0.999 });
    const late = nextRefreshAt({ ...base, lastUsedAt: T0, random: () => 0 });
    assert.equal(late, T0 + HOUR - 5 * 60_000);
    assert.ok(early >= T0 + HOUR - 10 * 60_000 && early < late);
  });

  it('only keeps an idle connection alive, jittered, and never past half the refresh token life left', () => {
    const idle = nextRefreshAt({ ...base, lastUsedAt: T0 - 3 * HOUR, random: () => 0.5 });
    assert.equal(idle, T0 + Math.round(7 * DAY * 0.9));
    const nearEnd = nextRefreshAt({
      ...base,
      lastUsedAt: null,
      refreshExpiresAt: T0 + 4 * DAY,
      random: () => 0,
    });
    assert.equal(nearEnd, T0 + 2 * DAY);
  });

  it('never schedules in the past', () => {
    assert.equal(nextRefreshAt({ ...base, accessExpiresAt: T0 - HOUR, lastUsedAt: T0, random: () => 0 }), T0);
    assert.equal(daysLeft(T0, T0 + 30 * DAY - 1), 29);
  });
});
