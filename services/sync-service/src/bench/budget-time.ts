import { type BudgetLimits, budgetLimits } from '@qbo/qbo-client';

/**
 * The least time Intuit's budget alone allows `calls` calls to one realm, as the client meters it (500 a minute
 * and 10 a second less its 10 % headroom, in sliding windows): the moment the last call may start, each call
 * starting as soon as both windows let it, every answer taking no time.
 */
export function budgetOnlyMs(calls: number, limits: BudgetLimits = budgetLimits()): number {
  const starts: number[] = [];
  for (let i = 0; i < calls; i++) {
    const bySecond = i >= limits.perSecond ? (starts[i - limits.perSecond] as number) + limits.secondMs : 0;
    const byMinute = i >= limits.perMinute ? (starts[i - limits.perMinute] as number) + limits.minuteMs : 0;
    starts.push(Math.max(bySecond, byMinute));
  }
  return starts.at(-1) ?? 0;
}
