import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an `Authorization: Bearer <credential>` header against the accepted service credentials (several
 * during a rotation) in constant time: both sides are hashed first, so neither length nor content leaks
 * through timing.
 */
export function verifyServiceCredential(header: string | undefined, accepted: readonly string[]): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  if (!match?.[1]) return false;
  const presented = digest(match[1]);
  let ok = false;
  for (const credential of accepted) ok = timingSafeEqual(presented, digest(credential)) || ok;
  return ok;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
