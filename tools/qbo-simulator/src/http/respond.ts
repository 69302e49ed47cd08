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

/** Whether the request asks for XML (an Accept naming XML and not JSON), as Intuit answers it then (§2.2). */
export const wantsXml = (c: Context) => {
  const accept = c.req.header('accept')?.toLowerCase() ?? '';
  return accept.includes('xml') && !accept.includes('json');
};

const xmlText = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A fault as Intuit's XML: `<IntuitResponse><Fault type="…"><Error code="…">` (qbo-api-facts §2.2, §6.2). */
export function faultXml(fault: QboFault, now: number): string {
  const errors = fault.errors
    .map(
      (e) =>
        `<Error code="${xmlText(e.code)}"${e.element ? ` element="${xmlText(e.element)}"` : ''}><Message>${xmlText(e.Message)}</Message><Detail>${xmlText(e.Detail)}</Detail></Error>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="${formatResponseTime(now)}"><Fault type="${fault.type}">${errors}</Fault></IntuitResponse>`;
}

/**
 * Intuit's throttle fault (3001, type SERVICE, no rate-limit headers): in XML when the request asks for
 * XML, or always under the `throttleFormat: 'xml'` policy (throttles historically came back as XML even to
 * JSON requests); JSON otherwise.
 */
export function sendThrottled(c: Context, now: number, format: 'accept' | 'xml') {
  const fault = faults.throttled();
  if (format === 'xml' || wantsXml(c)) {
    return c.body(faultXml(fault, now), 429, { 'content-type': 'application/xml;charset=UTF-8' });
  }
  return sendFault(c, fault, now);
}

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
