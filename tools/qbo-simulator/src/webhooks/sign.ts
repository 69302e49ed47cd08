import { createHmac } from 'node:crypto';

/** `intuit-signature`: base64 HMAC-SHA256 of the exact body bytes, keyed by the verifier token (§7.2). */
export const signPayload = (verifierToken: string, body: string | Uint8Array): string =>
  createHmac('sha256', verifierToken).update(body).digest('base64');
