/** What the callback knows of a state row, without the secrets. */
export interface StoredState {
  stateHash: string;
  orgId: string;
  nonceHash: string;
  returnTo: string;
  expiresAt: Date;
  usedAt: Date | null;
}

export type RefusalReason =
  | 'state_missing'
  | 'state_unknown'
  | 'state_expired'
  | 'state_reused'
  | 'cookie_mismatch'
  | 'provider_error';

export type StateVerdict = { ok: true } | { ok: false; reason: RefusalReason };

/**
 * The checks on the state row, in order: unknown, expired, reused, then the browser binding. The binding is
 * checked before the state is consumed, so only the browser that started the flow can spend its state.
 */
export function judgeState(
  row: StoredState | undefined,
  now: Date,
  cookieOk: (row: StoredState) => boolean,
): StateVerdict {
  if (!row) return { ok: false, reason: 'state_unknown' };
  if (row.usedAt) return row.expiresAt <= now ? expired() : { ok: false, reason: 'state_reused' };
  if (row.expiresAt <= now) return expired();
  if (!cookieOk(row)) return { ok: false, reason: 'cookie_mismatch' };
  return { ok: true };
}

const expired = (): StateVerdict => ({ ok: false, reason: 'state_expired' });

/** HTTP status and public wording per refusal; none of them repeats what the request carried. */
export const refusals: Record<RefusalReason | 'return_to_not_allowed', { status: 400 | 403; title: string }> =
  {
    state_missing: { status: 400, title: 'The connect link is incomplete. Start the connection again.' },
    state_unknown: {
      status: 400,
      title: 'This connect attempt is not recognised. Start the connection again.',
    },
    state_expired: { status: 400, title: 'This connect attempt has expired. Start the connection again.' },
    state_reused: {
      status: 400,
      title: 'This connect attempt was already used. Start the connection again.',
    },
    cookie_mismatch: {
      status: 403,
      title: 'This connect attempt was started in another browser. Start the connection again here.',
    },
    provider_error: { status: 400, title: 'QuickBooks did not grant access.' },
    return_to_not_allowed: { status: 400, title: 'returnTo is not an allowed origin.' },
  };

/** Intuit's `error` values are short identifiers; anything else is summarised rather than echoed. */
export function providerErrorCode(raw: string): string {
  return /^[a-z_]{1,64}$/.test(raw) ? raw : 'unrecognised';
}
