/**
 * When the scheduler should next refresh a connection. A connection in use gets its access token refreshed
 * ahead of expiry (between one and two margins before it, jittered), so callers rarely wait for Intuit. An
 * idle one is only kept alive: refreshed every keep-alive interval (jittered down by up to 20% so a fleet
 * connected at once does not refresh at once), and never later than halfway through what is left of its
 * refresh token's life, which keeps it well inside Intuit's 100-day inactivity window.
 */
export interface ScheduleInput {
  now: number;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  lastUsedAt: number | null;
  marginMs: number;
  activeWindowMs: number;
  keepAliveMs: number;
  random: () => number;
}

export function nextRefreshAt({
  now,
  accessExpiresAt,
  refreshExpiresAt,
  lastUsedAt,
  marginMs,
  activeWindowMs,
  keepAliveMs,
  random,
}: ScheduleInput): number {
  const halfLife = now + Math.max(0, refreshExpiresAt - now) / 2;
  const inUse = lastUsedAt !== null && now - lastUsedAt < activeWindowMs;
  const wanted = inUse
    ? accessExpiresAt - marginMs - Math.round(marginMs * random())
    : now + Math.round(keepAliveMs * (1 - 0.2 * random()));
  return Math.max(now, Math.min(wanted, halfLife));
}

/** Days left before a refresh token's hard expiry, rounded down; ReconnectSoon carries it. */
export const daysLeft = (now: number, hardExpiresAt: number): number =>
  Math.max(0, Math.floor((hardExpiresAt - now) / 86_400_000));

/** Intuit's cap on any grant, from its creation (qbo-api-facts §1.5). */
export const FIVE_YEARS_MS = 157_680_000 * 1000;
