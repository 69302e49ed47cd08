import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../domain/key-ring.js';
import { open, seal, sealedKid } from '../domain/sealing.js';

export type TokenField = 'access_token' | 'refresh_token' | 'last_good_refresh_token';

/** The sealing key id of token values: they are sealed by the connection's data key, not a ring key. */
const DATA_KEY_KID = 'dek';

/**
 * Envelope encryption: each connection has its own random data key (DEK), sealed by the key ring's active
 * key-encryption key (KEK). Tokens are sealed by the DEK with associated data binding connection, field and
 * credential version. Rotating the KEK only re-seals data keys (lazily, on read); deleting a data key makes
 * every value sealed under it unreadable.
 */
export interface Vault {
  newDataKey(connectionId: string): { dek: Buffer; sealedKey: string };
  /** Opens a data key; `resealed` is set when it was sealed by an older KEK and should be written back. */
  openDataKey(connectionId: string, sealedKey: string): { dek: Buffer; resealed?: string };
  sealToken(dek: Buffer, connectionId: string, field: TokenField, version: number, value: string): string;
  openToken(dek: Buffer, connectionId: string, field: TokenField, version: number, sealed: string): string;
  activeKid(): string;
  /** Every key id of the ring, the active one included. */
  kids(): string[];
}

const dekAad = (connectionId: string) => `${connectionId}|data_key`;
const tokenAad = (connectionId: string, field: TokenField, version: number) =>
  `${connectionId}|${field}|${version}`;

export function createVault(ring: KeyRing): Vault {
  return {
    newDataKey(connectionId) {
      const dek = randomBytes(32);
      return { dek, sealedKey: seal(dek, ring.active, dekAad(connectionId)) };
    },
    openDataKey(connectionId, sealedKey) {
      const dek = open(sealedKey, ring.get, dekAad(connectionId));
      if (sealedKid(sealedKey) === ring.active.kid) return { dek };
      return { dek, resealed: seal(dek, ring.active, dekAad(connectionId)) };
    },
    sealToken: (dek, connectionId, field, version, value) =>
      seal(
        Buffer.from(value, 'utf8'),
        { kid: DATA_KEY_KID, key: dek },
        tokenAad(connectionId, field, version),
      ),
    openToken: (dek, connectionId, field, version, sealed) =>
      open(
        sealed,
        (kid) => (kid === DATA_KEY_KID ? dek : undefined),
        tokenAad(connectionId, field, version),
      ).toString('utf8'),
    activeKid: () => ring.active.kid,
    kids: () => ring.kids(),
  };
}
