import { randomBytes } from 'node:crypto';

/** A small seeded generator (mulberry32): the same seed gives the same companies and records on every run. */
export interface Random {
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number) => Math.floor(next() * maxExclusive);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]) => items[int(items.length)] as T,
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Intuit's transaction id header value, e.g. `1-628f0be4-19ed5ea63980105102b16b1e`. */
export const newIntuitTid = () => `1-${hex(4)}-${hex(12)}`;

/** Opaque, JWE-looking like Intuit's access tokens; clients must not parse them. */
export const newAccessToken = () =>
  `eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..${randomBytes(16).toString('base64url')}.${randomBytes(
    96,
  ).toString('base64url')}.${randomBytes(16).toString('base64url')}`;

/** `AB11…`, about 50 characters, as Intuit's refresh tokens and authorization codes look. */
export const newRefreshToken = (now: number) =>
  `AB11${Math.floor(now / 1000)}${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`.slice(0, 50);

export const newAuthorizationCode = (now: number) =>
  `AB11${Math.floor(now / 1000)}${randomBytes(48).toString('base64url').replace(/[-_]/g, 'x')}`.slice(0, 90);

export const newUuid = () => crypto.randomUUID();
