import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Intuit signs each delivery as base64(HMAC-SHA256(verifier token, raw body bytes)) in `intuit-signature`
 * (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications).
 * The MAC is computed over the bytes received, never a re-serialised body, and compared in constant time.
 * Several verifier tokens may be valid at once while one is being rotated.
 */
export function verifySignature(
  raw: Uint8Array,
  header: string | undefined,
  verifierTokens: readonly string[],
): boolean {
  if (header === undefined || header.length === 0 || header.length > 128) return false;
  const given = Buffer.from(header, 'base64');
  let valid = false;
  for (const token of verifierTokens) {
    const expected = createHmac('sha256', token).update(raw).digest();
    // Every token is tried, so the time taken does not reveal which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}

export function sign(raw: Uint8Array | string, verifierToken: string): string {
  return createHmac('sha256', verifierToken).update(raw).digest('base64');
}
