import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '@qbo/service-kit';
import type { TokenFacts } from '../domain/before-refresh.js';
import { type CredentialRow, type Em, resealDataKey } from '../store/credentials.js';
import { ms } from '../store/time.js';
import type { Vault } from '../vault/vault.js';
import { disconnected } from './errors.js';

/** A row's data key and tokens, opened. */
export interface Opened {
  dek: Buffer;
  access: string | null;
  refresh: string | null;
  lastGood: string | null;
}

/** Compares secrets in constant time. */
export const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Opens a row's data key and tokens. A data key sealed by an older key of the ring is re-sealed by the active
 * one, off the caller's path.
 */
export function createOpenCredential({ vault, fork, log }: { vault: Vault; fork: () => Em; log: Logger }) {
  return (row: CredentialRow): Opened => {
    if (!row.sealed_key) throw disconnected();
    const { dek, resealed } = vault.openDataKey(row.connection_id, row.sealed_key);
    if (resealed) {
      void resealDataKey(fork(), row.connection_id, resealed, row.sealed_key).catch((err: unknown) =>
        log.warn({ err, connectionId: row.connection_id }, 're-seal failed'),
      );
    }
    const v = row.credential_version;
    const id = row.connection_id;
    return {
      dek,
      access: row.access_token_sealed && vault.openToken(dek, id, 'access_token', v, row.access_token_sealed),
      refresh:
        row.refresh_token_sealed && vault.openToken(dek, id, 'refresh_token', v, row.refresh_token_sealed),
      lastGood:
        row.last_good_refresh_token_sealed &&
        vault.openToken(dek, id, 'last_good_refresh_token', v, row.last_good_refresh_token_sealed),
    };
  };
}

/** What the refresh decision needs to know of a row and its opened tokens. */
export const tokenFacts = (row: CredentialRow, opened: Opened, rejected?: string): TokenFacts => ({
  status: row.status,
  hasAccess: Boolean(opened.access),
  accessIsRejected:
    rejected !== undefined && Boolean(opened.access) && sameSecret(opened.access ?? '', rejected),
  accessExpiresAt: ms(row.access_token_expires_at) ?? 0,
  hasRefresh: Boolean(opened.refresh),
  nextRefreshAt: ms(row.next_refresh_at),
  forcedRefreshAt: ms(row.forced_refresh_at),
});

/** The token as callers get it. */
export const tokenOf = (
  row: CredentialRow,
  access: string,
  expiresAt: number,
  version = row.credential_version,
) => ({
  connectionId: row.connection_id,
  realmId: row.realm_id,
  accessToken: access,
  accessTokenExpiresAt: new Date(expiresAt).toISOString(),
  credentialVersion: version,
});
