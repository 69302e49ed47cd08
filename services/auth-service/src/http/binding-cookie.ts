import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bindingCookieName, bindingCookieOptions } from '../domain/state.js';

/** The browser-binding cookie of the connect flow, through Hono's cookie helpers. */
export function bindingCookieJar(secure: boolean) {
  const name = bindingCookieName(secure);
  return {
    read: (c: Context): string | undefined => getCookie(c, name),
    set: (c: Context, value: string, maxAgeSeconds: number) =>
      setCookie(c, name, value, bindingCookieOptions(maxAgeSeconds, secure)),
    clear: (c: Context) => {
      deleteCookie(c, name, bindingCookieOptions(0, secure));
    },
  };
}
