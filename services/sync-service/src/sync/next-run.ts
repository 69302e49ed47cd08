/**
 * When a company's next scheduled delta is due, decided from the run that just completed, without I/O.
 *
 * A run that started on time keeps its rhythm: one interval, jittered by ±10 % so that companies connected
 * together drift apart. A scheduled run that started late (a backlog after many companies were onboarded at
 * once, or after an outage) would keep the backlog's bunching for many intervals if it kept its rhythm,
 * since ±10 % spreads a herd only slowly; it spreads its next start over the whole interval instead
 * (between 0.1 and 1.1 intervals away, so a company is still synced at least every 1.1 intervals).
 */
export interface NextRunInput {
  intervalMs: number;
  /** The schedule the run was claimed under, and whether it had come due by itself. */
  scheduleAt: number;
  scheduleDue: boolean;
  startedAt: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

/** Late by more than this share of the interval (and by more than `LATE_FLOOR_MS`): the run was held up. */
const LATE_SHARE = 0.5;
const LATE_FLOOR_MS = 30_000;

export function nextRunDelay({
  intervalMs,
  scheduleAt,
  scheduleDue,
  startedAt,
  random,
}: NextRunInput): number {
  const lateBy = scheduleDue ? startedAt - scheduleAt : 0;
  if (lateBy > Math.max(intervalMs * LATE_SHARE, LATE_FLOOR_MS)) {
    return Math.round(intervalMs * (0.1 + random()));
  }
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}
