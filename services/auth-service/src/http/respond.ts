import type { AppError } from '@qbo/service-kit';
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
