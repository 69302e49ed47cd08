import type { EntityManager } from '@mikro-orm/postgresql';
import { query } from '@qbo/service-kit';
import type { StoredState } from '../domain/callback.js';

export interface NewState {
  stateHash: string;
  orgId: string;
  /** The platform user who started the flow, when the credential names one. */
  userId: string | null;
  nonceHash: string;
  returnTo: string;
  sealedCodeVerifier: string | null;
  expiresAt: Date;
}

export interface StateRow extends StoredState {
  userId: string | null;
  sealedCodeVerifier: string | null;
}

interface Row {
  state_hash: string;
  org_id: string;
  user_id: string | null;
  nonce_hash: string;
  return_to: string;
  sealed_code_verifier: string | null;
  expires_at: Date | string;
  used_at: Date | string | null;
}

const toRow = (r: Row): StateRow => ({
  stateHash: r.state_hash,
  orgId: r.org_id,
  userId: r.user_id,
  nonceHash: r.nonce_hash,
  returnTo: r.return_to,
  sealedCodeVerifier: r.sealed_code_verifier,
  expiresAt: new Date(r.expires_at),
  usedAt: r.used_at === null ? null : new Date(r.used_at),
});

export function createStates(fork: () => EntityManager) {
  return {
    async insert(s: NewState): Promise<void> {
      await query(
        fork(),
        `insert into oauth_state
           (state_hash, org_id, user_id, nonce_hash, return_to, sealed_code_verifier, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [
          s.stateHash,
          s.orgId,
          s.userId,
          s.nonceHash,
          s.returnTo,
          s.sealedCodeVerifier,
          s.expiresAt.toISOString(),
        ],
      );
    },
    async find(stateHash: string): Promise<StateRow | undefined> {
      const [row] = await query<Row>(fork(), 'select * from oauth_state where state_hash = $1', [stateHash]);
      return row ? toRow(row) : undefined;
    },
    /** Spends the state once: of two concurrent callbacks with it, exactly one gets true. */
    async consume(stateHash: string): Promise<boolean> {
      const rows = await query(
        fork(),
        `update oauth_state set used_at = now()
         where state_hash = $1 and used_at is null and expires_at > now() returning state_hash`,
        [stateHash],
      );
      return rows.length === 1;
    },
    /** Rows stay a day past expiry so a late replay is told "expired" rather than "unknown". */
    async prune(): Promise<void> {
      await query(fork(), `delete from oauth_state where expires_at < now() - interval '1 day'`);
    },
  };
}

export type States = ReturnType<typeof createStates>;
