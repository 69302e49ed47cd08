import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenApiCaller } from './callers.js';

/**
 * Checks an `Authorization: Bearer <credential>` header against the accepted service credentials (several
 * during a rotation) in constant time: both sides are hashed first, so neither length nor content leaks
 * through timing.
 */
export function verifyServiceCredential(header: string | undefined, accepted: readonly string[]): boolean {
  const presented = presentedDigest(header);
  if (!presented) return false;
  let ok = false;
  for (const credential of accepted) ok = timingSafeEqual(presented, digest(credential)) || ok;
  return ok;
}

/**
 * The caller an `Authorization: Bearer <credential>` header identifies, or undefined: every credential of
 * every caller is compared (in constant time, all of them whatever matched), so timing tells nothing about
 * which caller or how many secrets there are.
 */
export function identifyCaller(
  header: string | undefined,
  callers: ReadonlyMap<TokenApiCaller, readonly string[]>,
): TokenApiCaller | undefined {
  const presented = presentedDigest(header);
  if (!presented) return undefined;
  let found: TokenApiCaller | undefined;
  for (const [caller, secrets] of callers) {
    for (const secret of secrets) if (timingSafeEqual(presented, digest(secret))) found ??= caller;
  }
  return found;
}

const presentedDigest = (header: string | undefined): Buffer | undefined => {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  return match?.[1] ? digest(match[1]) : undefined;
};

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
