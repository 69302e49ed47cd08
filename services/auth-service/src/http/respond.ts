import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 502 | 503;

export const problem = (
  c: Context,
  status: ErrorStatus,
  code: string,
  title: string,
  headers: Record<string, string> = {},
) =>
  c.json({ type: 'about:blank', title, status, code }, status, {
    'content-type': 'application/problem+json',
    ...headers,
  });

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * A browser landing on the callback gets a small page; an API client gets problem+json. Neither repeats
 * anything the request carried (state, code, realm) nor a stack trace.
 */
export function refusal(
  c: Context,
  status: ErrorStatus,
  code: string,
  title: string,
  headers: Record<string, string> = {},
) {
  if ((c.req.header('accept') ?? '').includes('text/html')) {
    const body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>QuickBooks connection</title></head><body><h1>QuickBooks connection not completed</h1><p>${escapeHtml(title)}</p><p>Error code: <code>${escapeHtml(code)}</code></p></body></html>`;
    return c.html(body, status, headers);
  }
  return problem(c, status, code, title, headers);
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
