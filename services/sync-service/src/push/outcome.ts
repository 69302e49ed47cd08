/** A failed call as the push sees it: Intuit's category and code, whether it answered at all. */
export interface CallFailure {
  category: string;
  code: string;
  /** The HTTP status Intuit answered with; absent when no answer arrived (a timeout, a lost connection). */
  status?: number | undefined;
  field?: string | undefined;
}

/**
 * What to do with a command whose call failed:
 * - `resend`: no answer arrived, so the write may have happened; the same call goes again with the same
 *   `requestid`, which Intuit replays if it did.
 * - `replan`: Intuit answered that it did not apply it (throttled, failed on its side, or refused an access token
 *   that lapsed again right after the client's one refresh); a new attempt with a new `requestid`, since Intuit
 *   would replay the stored failure for the old one.
 * - `conflict`: the caller's SyncToken is stale (5010); the current version is read and handed back, and the
 *   command is never retried with a fresher token.
 * - `failed`: refused for good (validation, not found, access); the result names the field when one is known.
 */
export type FailureAction =
  | { action: 'resend' }
  | { action: 'replan' }
  | { action: 'conflict' }
  | { action: 'failed'; field?: string };

const TRANSIENT = new Set(['rate_limit', 'server', 'network', 'timeout']);

/** Name-list entities whose unique name is `DisplayName`; the others' is `Name` (qbo-api-facts §4.3, 6240). */
const DISPLAY_NAMED = new Set(['Customer', 'Vendor', 'Employee']);

export function failureAction(f: CallFailure, entity: string): FailureAction {
  if (f.code === '5010' || f.category === 'conflict') return { action: 'conflict' };
  // Intuit's 401 (3200) says the token lapsed, not that the grant is dead: a dead grant fails the refresh
  // itself (token-service's reauthorization_required, no HTTP status), and that one stays `failed`.
  if (f.category === 'auth' && f.status === 401) return { action: 'replan' };
  if (TRANSIENT.has(f.category)) return f.status === undefined ? { action: 'resend' } : { action: 'replan' };
  if (f.code === '6240') {
    return { action: 'failed', field: `payload.${DISPLAY_NAMED.has(entity) ? 'DisplayName' : 'Name'}` };
  }
  return f.field ? { action: 'failed', field: `payload.${f.field}` } : { action: 'failed' };
}
