/**
 * What to do before calling Intuit's token endpoint, decided without I/O from the credential row as the
 * refresh found it under its lock. Callers get the token they hold whenever it still serves them; a scheduled
 * refresh runs only when the row is still due; a connection backing off after failures is not refreshed early
 * by callers, so an outage does not become a stampede on Intuit.
 */
export type Mode =
  /** A caller needs a token valid for at least `minValidityMs`. */
  | { kind: 'ensure'; minValidityMs: number }
  /** A caller's token was rejected by the Accounting API. */
  | { kind: 'rejected' }
  /** The scheduler found the row due. */
  | { kind: 'scheduled' }
  /** The scheduler probes whether Intuit takes the app's credentials again, during a pause. */
  | { kind: 'probe' };

export interface TokenFacts {
  status: 'active' | 'degraded' | 'deactivated' | 'disconnected';
  /** An access token is held (it opened). */
  hasAccess: boolean;
  /** The held access token is the one a `rejected` caller saw refused. */
  accessIsRejected: boolean;
  accessExpiresAt: number;
  hasRefresh: boolean;
  /** The row's schedule: when it is due, or when a degraded row may be tried again. */
  nextRefreshAt: number | null;
  /** When a `rejected` caller last made this connection call Intuit. */
  forcedRefreshAt: number | null;
}

export type BeforeRefresh =
  | { action: 'serve' }
  | { action: 'skip' }
  | { action: 'refuse'; reason: 'disconnected' | 'reauthorization_required' }
  | { action: 'app_paused' }
  | { action: 'back_off'; retryAt: number }
  | { action: 'throttled'; retryAt: number }
  | { action: 'refresh' };

/** The refusal a row's status makes before its tokens are even opened, if any. */
export function refusalOf(
  status: TokenFacts['status'],
): 'disconnected' | 'reauthorization_required' | undefined {
  if (status === 'disconnected') return 'disconnected';
  if (status === 'deactivated') return 'reauthorization_required';
  return undefined;
}

/** Whether the held access token answers the caller as it is. */
export function heldTokenServes(mode: Mode, t: TokenFacts, now: number): boolean {
  if (!t.hasAccess) return false;
  if (mode.kind === 'ensure') return t.accessExpiresAt > now + mode.minValidityMs;
  if (mode.kind === 'rejected') return !t.accessIsRejected && t.accessExpiresAt > now;
  return false;
}

export function decideBeforeRefresh(
  mode: Mode,
  t: TokenFacts,
  {
    now,
    appPaused,
    forcedRefreshIntervalMs,
  }: { now: number; appPaused: boolean; forcedRefreshIntervalMs: number },
): BeforeRefresh {
  const background = mode.kind === 'scheduled' || mode.kind === 'probe';
  if (background && t.status !== 'active' && t.status !== 'degraded') return { action: 'skip' };
  const refused = refusalOf(t.status);
  if (refused) return { action: 'refuse', reason: refused };
  // A probe asks Intuit whether the app's credentials work again: it runs whatever the token and the backoff.
  if (mode.kind === 'probe') return t.hasRefresh ? { action: 'refresh' } : { action: 'skip' };
  // Someone (another caller, replica or the scheduler) may have refreshed while this one waited.
  if (heldTokenServes(mode, t, now)) return { action: 'serve' };
  if (mode.kind === 'scheduled' && (t.nextRefreshAt === null || t.nextRefreshAt > now))
    return { action: 'skip' };
  // Whoever holds the current token could otherwise make this service call Intuit as often as they like.
  if (
    mode.kind === 'rejected' &&
    t.forcedRefreshAt !== null &&
    now - t.forcedRefreshAt < forcedRefreshIntervalMs
  )
    return { action: 'throttled', retryAt: t.forcedRefreshAt + forcedRefreshIntervalMs };
  if (appPaused) return mode.kind === 'scheduled' ? { action: 'skip' } : { action: 'app_paused' };
  const retryAt = t.nextRefreshAt;
  if (mode.kind !== 'scheduled' && t.status === 'degraded' && retryAt !== null && retryAt > now) {
    // A caller that asked for any still-valid token gets it while the connection backs off.
    if (mode.kind === 'ensure' && t.hasAccess && t.accessExpiresAt > now) return { action: 'serve' };
    return { action: 'back_off', retryAt };
  }
  if (!t.hasRefresh) return { action: 'refuse', reason: 'reauthorization_required' };
  return { action: 'refresh' };
}
