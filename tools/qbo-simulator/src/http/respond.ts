import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { faults, type QboFault } from '../domain/fault.js';
import { formatResponseTime } from '../qbo-time.js';

export const JSON_TYPE = 'application/json;charset=UTF-8';

/** A JSON text answer; bodies are assembled as text so cached record JSON is reused, not re-serialised. */
export const sendJson = (c: Context, status: number, text: string) =>
  c.body(text, status as ContentfulStatusCode, { 'content-type': JSON_TYPE });

/** `{"<key>": <value>, "time": "…"}`, the shape of every Accounting API answer. */
export const withTime = (key: string, valueJson: string, now: number) =>
  `{"${key}":${valueJson},"time":"${formatResponseTime(now)}"}`;

export const faultJson = (fault: QboFault, now: number) =>
  JSON.stringify({ ...fault.body(), time: formatResponseTime(now) });

export const sendFault = (c: Context, fault: QboFault, now: number) =>
  sendJson(c, fault.status, faultJson(fault, now));

/**
 * The gateway's 401 (qbo-api-facts §6.1): lower-case keys, nulls, epoch-ms `time`, and `www-authenticate`.
 * The detail names a public handle of the token, never the token.
 */
export function sendUnauthorized(c: Context, detail: string, now: number) {
  const body = {
    warnings: null,
    intuitObject: null,
    fault: {
      error: [
        {
          message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
          detail,
          code: '3200',
          element: null,
        },
      ],
      type: 'AUTHENTICATION',
    },
    report: null,
    queryResponse: null,
    batchItemResponse: [],
    attachableResponse: [],
    syncErrorResponse: null,
    requestId: null,
    time: now,
    status: null,
    cdcresponse: [],
  };
  c.header('www-authenticate', 'Bearer realm="Intuit", error="invalid_token"');
  return sendJson(c, 401, JSON.stringify(body));
}

const page = (title: string, text: string) =>
  `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

export const PAYLOAD_TOO_LARGE_HTML = page('413 Request Entity Too Large', 'Request Entity Too Large');
export const GATEWAY_TIMEOUT_HTML = page('504 Gateway Time-out', 'The server didn&#39;t respond in time.');
export const BAD_GATEWAY_HTML = page(
  '502 Bad Gateway',
  'The server returned an invalid or incomplete response.',
);
export const UNAVAILABLE_HTML = page('503 Service Unavailable', 'The service is temporarily unavailable.');

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

export const errorPage = (title: string, text: string) => page(escapeHtml(title), escapeHtml(text));

/** A write's JSON body; anything unparsable is Intuit's 2010 fault, as a malformed entity would be. */
export async function readJsonBody(c: Context): Promise<unknown> {
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw faults.invalidProperty('Request has invalid or unsupported property');
  }
}
