import { AppError } from '@qbo/service-kit/errors';
import type { SealingKey } from './sealing.js';

/**
 * Key-encryption keys by id: one active key seals new values, the others only open old ones until every value
 * they sealed has been re-sealed.
 */
export interface KeyRing {
  active: SealingKey;
  get(kid: string): Buffer | undefined;
  kids(): string[];
}

/** A key ring the configuration cannot be read as; the message names a key id at most, never a key. */
export class KeyRingError extends AppError {
  constructor(message: string) {
    super('invalid_key_ring', message);
    this.name = 'KeyRingError';
  }
}

/**
 * Reads `kid:base64key,kid:base64key` (each key exactly 32 bytes) and the active id. Errors name the key
 * id, never the key.
 */
export function parseKeyRing(spec: string, activeKid: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const kid = colon > 0 ? entry.slice(0, colon) : '';
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) throw new KeyRingError('each key must be written kid:base64key');
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32) throw new KeyRingError(`key ${kid} must be 32 bytes (base64 of 32 random bytes)`);
    if (keys.has(kid)) throw new KeyRingError(`key id ${kid} appears twice`);
    keys.set(kid, key);
  }
  const active = keys.get(activeKid);
  if (!active) throw new KeyRingError(`the active key id ${activeKid} is not in the key ring`);
  return {
    active: { kid: activeKid, key: active },
    get: (kid) => keys.get(kid),
    kids: () => [...keys.keys()],
  };
}
