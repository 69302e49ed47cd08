export type ReturnToCheck =
  | { ok: true; url: string }
  | { ok: false; reason: 'malformed' | 'not_allowed'; origin?: string };

/**
 * `returnTo` must be an absolute http(s) URL whose origin is one of the allowlisted origins, compared
 * exactly. No userinfo (a `https://good@evil` trick), no prefix or suffix matching, no relative URLs
 * (`//evil.example` is relative to nothing here).
 */
export function checkReturnTo(raw: string | undefined, allowed: readonly string[]): ReturnToCheck {
  if (raw === undefined || raw === '') {
    const first = allowed[0];
    return first ? { ok: true, url: `${first}/` } : { ok: false, reason: 'not_allowed' };
  }
  if (raw.length > 2_000) return { ok: false, reason: 'malformed' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'malformed' };
  if (url.username || url.password) return { ok: false, reason: 'not_allowed', origin: url.origin };
  if (!allowed.includes(url.origin)) return { ok: false, reason: 'not_allowed', origin: url.origin };
  return { ok: true, url: url.href };
}

/** The return URL with our outcome flags; fragments are dropped so they cannot carry anything onward. */
export function withOutcome(returnTo: string, params: Record<string, string>): string {
  const url = new URL(returnTo);
  url.hash = '';
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}
