import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** 256 bits, base64url: the `state` sent to Intuit and the browser nonce kept in the cookie. */
export const randomToken = (): string => randomBytes(32).toString('base64url');

/** What the database keeps of a state or nonce: a leaked table row cannot be replayed. */
export const sha256 = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/** Independent keys from the one configured secret, so the cookie MAC key never doubles as the sealing key. */
export function deriveKeys(secret: string): { cookie: Buffer; seal: Buffer; fingerprint: Buffer } {
  const derive = (label: string) => createHmac('sha256', secret).update(label).digest();
  return {
    cookie: derive('qbo-connect/cookie'),
    seal: derive('qbo-connect/seal'),
    fingerprint: derive('qbo-connect/fingerprint'),
  };
}

const mac = (key: Buffer, stateHash: string, nonce: string): string =>
  createHmac('sha256', key).update(`${stateHash}:${nonce}`).digest('base64url');

/**
 * The cookie that binds a state to the browser that started the flow: a random nonce (its hash is stored with
 * the state) and a MAC over the state hash and the nonce, so a cookie is worthless with any other state.
 */
export function bindingCookie(key: Buffer, stateHash: string): { value: string; nonceHash: string } {
  const nonce = randomToken();
  return { value: `${nonce}.${mac(key, stateHash, nonce)}`, nonceHash: sha256(nonce) };
}

/**
 * The binding cookie's name: `__Host-` makes the browser refuse it unless it is Secure, host-only and Path=/, so
 * a sibling subdomain cannot plant or shadow it. Browsers also refuse that prefix without Secure, hence the plain
 * name for plain-http local development (the config allows that only for a localhost redirect URI).
 */
export const bindingCookieName = (secure: boolean): string => (secure ? '__Host-qbo_connect' : 'qbo_connect');

/**
 * The binding cookie's attributes (for Hono's `setCookie`): host-only, HttpOnly, and SameSite=Lax because the
 * cookie must ride along on Intuit's top-level redirect back to us.
 */
export const bindingCookieOptions = (maxAgeSeconds: number, secure: boolean) =>
  ({ path: '/', maxAge: maxAgeSeconds, httpOnly: true, sameSite: 'Lax', secure }) as const;

/** Constant-time checks of the cookie's MAC and of its nonce against the stored hash. */
export function cookieMatches(
  key: Buffer,
  cookie: string | undefined,
  stateHash: string,
  storedNonceHash: string,
): boolean {
  const [nonce, tag, ...rest] = (cookie ?? '').split('.');
  if (!nonce || !tag || rest.length > 0 || nonce.length > 64 || tag.length > 64) return false;
  const macOk = safeEqual(tag, mac(key, stateHash, nonce));
  const nonceOk = safeEqual(sha256(nonce), storedNonceHash);
  return macOk && nonceOk;
}

function safeEqual(a: string, b: string): boolean {
  // Hashing first makes the comparison length-independent.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** PKCE S256 (RFC 7636): the verifier stays with us, the challenge goes to the authorize URL. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * AES-256-GCM, for the PKCE verifier at rest: the database alone cannot complete an exchange. The state hash is
 * the additional authenticated data, so a sealed verifier copied to another state's row does not open; the tag
 * length is pinned so a truncated tag is refused rather than checked on fewer bits.
 */
export function seal(key: Buffer, plaintext: string, stateHash: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(stateHash, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

export function unseal(key: Buffer, sealed: string, stateHash: string): string {
  const [iv, tag, body, ...rest] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !body || rest.length > 0 || tag.length !== TAG_LENGTH)
    throw new Error('sealed value is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(Buffer.from(stateHash, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

const TAG_LENGTH = 16;

/** A keyed hash of the client address for audit events: correlatable, but not an address. */
export const fingerprint = (key: Buffer, clientIp: string): string =>
  createHmac('sha256', key).update(clientIp).digest('base64url').slice(0, 32);
