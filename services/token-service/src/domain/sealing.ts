import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '@qbo/service-kit/errors';

/**
 * AES-256-GCM sealing with associated data. A sealed value is `v1.<kid>.<iv>.<ciphertext>.<tag>`, each part
 * base64url, so the key that sealed it travels with it and a key ring can open values sealed before a
 * rotation. The associated data binds a value to its place (connection, field, version): a ciphertext copied
 * into another row fails to open instead of decrypting as someone else's token.
 */
export interface SealingKey {
  kid: string;
  key: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID = /^[A-Za-z0-9_-]{1,32}$/;

export class SealError extends AppError {
  declare readonly code: 'malformed' | 'unknown_key' | 'tampered';

  constructor(code: SealError['code'], message: string) {
    super(code, message);
    this.name = 'SealError';
  }
}

export function seal(plaintext: Buffer, { kid, key }: SealingKey, aad: string): string {
  if (!KID.test(kid)) throw new SealError('malformed', 'key id must be 1-32 characters of [A-Za-z0-9_-]');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const b64 = (b: Buffer) => b.toString('base64url');
  return ['v1', kid, b64(iv), b64(ciphertext), b64(cipher.getAuthTag())].join('.');
}

/** The key id a sealed value names, to look its key up (and to tell whether it needs re-sealing). */
export function sealedKid(sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1' || !KID.test(parts[1] ?? '')) {
    throw new SealError('malformed', 'not a v1 sealed value');
  }
  return parts[1] as string;
}

export function open(sealed: string, keyFor: (kid: string) => Buffer | undefined, aad: string): Buffer {
  const kid = sealedKid(sealed);
  const [, , iv = '', ciphertext = '', tag = ''] = sealed.split('.');
  const key = keyFor(kid);
  if (!key) throw new SealError('unknown_key', `no key with id ${kid}`);
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
    throw new SealError('malformed', 'bad iv or tag');
  // authTagLength pinned: short GCM tags are deprecated from Node 24 (DEP0182) and a forgery aid.
  const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tagBytes);
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new SealError('tampered', 'sealed value failed authentication');
  }
}
