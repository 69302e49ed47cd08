import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetLimits } from '@qbo/qbo-client';
import { budgetOnlyMs } from './budget-time.js';

const client = budgetLimits({ marginMs: 0 });

test('calls within the per-second limit need no time; each further 9 need a second', () => {
  assert.equal(client.perSecond, 9);
  assert.equal(budgetOnlyMs(0, client), 0);
  assert.equal(budgetOnlyMs(9, client), 0);
  assert.equal(budgetOnlyMs(10, client), 1_000);
  assert.equal(budgetOnlyMs(113, client), 12_000);
});

test('past 450 calls the minute window sets the pace', () => {
  assert.equal(client.perMinute, 450);
  // 450 calls go in 50 s at 9 a second; the 451st waits for the first to leave the minute.
  assert.equal(budgetOnlyMs(450, client), 49_000);
  assert.equal(budgetOnlyMs(451, client), 60_000);
  assert.equal(budgetOnlyMs(901, client), 120_000);
});
