import { getConnInfo } from '@hono/node-server/conninfo';
import { AppError } from '@qbo/service-kit';
import type { Context } from 'hono';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * A browser landing on the callback gets a small page; an API client gets the error thrown, for the kit's
 * edge to write as problem+json. Neither repeats anything the request carried (state, code, realm) nor a
 * stack trace.
 */
export function refusal(c: Context, err: AppError): Response {
  if (!(c.req.header('accept') ?? '').includes('text/html')) throw err;
  const body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>QuickBooks connection</title></head><body><h1>QuickBooks connection not completed</h1><p>${escapeHtml(err.message)}</p><p>Error code: <code>${escapeHtml(err.code)}</code></p></body></html>`;
  return c.html(body, err.status as 400);
}

/**
 * The address the request came from: the socket's, or with a trusted proxy in front, the right-most entry of
 * X-Forwarded-For (the one our proxy appended; entries left of it are client-supplied).
 */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded?.split(',').at(-1)?.trim();
    if (last) return last.slice(0, 64);
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The org credential is missing or not valid: 401 asking for a bearer token. */
export const unauthenticated = (): AppError =>
  new AppError('unauthenticated', 'A valid org credential is required', {
    status: 401,
    authenticate: 'Bearer',
  });
